"""Hostile mails generated at test time (too big to commit)."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
MB = 1024 * 1024


def corpus() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))}


def many_recipients(count: int = 5000) -> bytes:
    to = ", ".join(f"Pessoa {n} <p{n}@example.org>" for n in range(count))
    return (f"From: lista@example.com\r\nTo: suporte@example.com, {to}\r\n"
            f"Subject: para {count} pessoas\r\nMessage-ID: <many-rcpt@example.com>\r\n\r\n"
            "oi\r\n").encode()


def deep_multipart(depth: int = 100) -> bytes:
    head = ("From: deep@example.com\r\nTo: suporte@example.com\r\nSubject: aninhado\r\n"
            "Message-ID: <deep@example.com>\r\nMIME-Version: 1.0\r\n")
    body = "Content-Type: text/plain\r\n\r\nno fundo\r\n"
    for level in reversed(range(depth)):
        body = (f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'
                f"{body}\r\n--b{level}--\r\n")
    return (head + body).encode()


def big_attachment(size: int = 40 * MB) -> bytes:
    import base64

    data = base64.encodebytes(b"\x00\x01" * (size // 2)).replace(b"\n", b"\r\n")
    return (b"From: big@example.com\r\nTo: suporte@example.com\r\nSubject: anexo enorme\r\n"
            b"Message-ID: <big-attachment@example.com>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="Z"\r\n\r\n'
            b"--Z\r\nContent-Type: text/plain\r\n\r\nsegue o arquivo\r\n"
            b"--Z\r\nContent-Type: application/octet-stream\r\n"
            b'Content-Disposition: attachment; filename="backup.bin"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + data + b"--Z--\r\n")


def huge_header(size: int = 10 * MB) -> bytes:
    return (b"From: header@example.com\r\nTo: suporte@example.com\r\nSubject: " + b"a" * size
            + b"\r\nX-Junk: " + b"b " * (size // 2)
            + b"\r\nMessage-ID: <huge-header@example.com>\r\n\r\ncorpo\r\n")
