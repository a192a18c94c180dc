"""The parsing policy's shortcut for simple MIME headers changes nothing: the value it hands
over is what the stdlib's parsed header renders to, and every mail parses to the same
`ParsedMail` as with the full header parse (hostile corpus, hostile generators, mails like
the benchmark's and mails whose MIME headers are generated)."""

from __future__ import annotations

import random
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from atende.connectors.email import addresses, inbound, mime
from tests.connectors.email import hostile
from tests.connectors.email.conftest import ADDRESS, customer_mail

# Characters and pieces that make MIME header values hard: quotes, escapes, comments,
# RFC 2231 and encoded-word syntax, folding, 8-bit.
_PIECES = [*'abcxyz/;="\\()*\'%, \t.-_019?<>@[]:{}~', "text/plain", "multipart/mixed",
           "boundary=", "filename=", "filename*0*=", "utf-8''", "charset=", "attachment",
           "inline", "\r\n ", "=?", "?=", "=?utf-8?q?ol=C3=A1?=", "é", "base64", '"q"']
_NAMES = ("Content-Type", "Content-Disposition", "Content-Transfer-Encoding")


def generated_values(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    values = []
    for _ in range(count):
        if rnd.random() < 0.5:  # near-valid: a type and parameters, then mutated
            params = "".join(f";{rnd.choice(' \t')}{rnd.choice(['name', 'charset', 'x'])}="
                             f"{rnd.choice(['v', '"a b"', '"c;d"', 'utf-8', '""', '"x'])}"
                             for _ in range(rnd.randint(0, 3)))
            value = rnd.choice(["text/plain", "attachment", "base64", "a/b"]) + params
            for _ in range(rnd.randint(0, 2)):
                at = rnd.randint(0, len(value))
                value = value[:at] + rnd.choice(_PIECES) + value[at:]
        else:
            value = "".join(rnd.choice(_PIECES) for _ in range(rnd.randint(0, 25)))
        values.append(value)
    return values


def _shortcut(name: str, value: str) -> str | None:
    """The value the parsing policy hands over without a parse, or None."""
    fetched = mime.PARSE_POLICY.header_fetch_parse(name, value)
    return fetched if type(fetched) is str else None


def test_the_shortcut_gives_what_the_parsed_header_renders_to() -> None:
    taken = 0
    for value in generated_values(6000, seed=1):
        for name in _NAMES:
            shortcut = _shortcut(name, value)
            if shortcut is None:
                continue
            taken += 1
            assert shortcut == str(policy.default.header_fetch_parse(name, value)), value
    assert taken > 500  # the generator does reach the shortcut


@pytest.mark.parametrize(("name", "value"), [
    ("Content-Type", 'multipart/mixed; boundary="===============0123456789=="'),
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Type", "multipart/alternative;\r\n boundary=\"b1\""),
    ("Content-Disposition", 'attachment; filename="comprovante 10.pdf"'),
    ("Content-Transfer-Encoding", "base64"),
])
def test_simple_values_take_the_shortcut(name: str, value: str) -> None:
    assert _shortcut(name, value) == str(policy.default.header_fetch_parse(name, value))


@pytest.mark.parametrize("value", [
    'attachment; filename="=?utf-8?q?relat=C3=B3rio.pdf?="',  # encoded word in quotes
    "attachment; filename*=utf-8''relat%C3%B3rio.pdf",  # RFC 2231
    'attachment; filename="relatório.pdf"',  # 8-bit
    'text/plain; charset="utf-8',  # unterminated quote
    'text/plain; name="a\\"b"',  # quoted pair
    "text/plain (comment); charset=utf-8",
    "text/plain; charset=utf-8; junk",
])
def test_anything_else_is_parsed(value: str) -> None:
    assert _shortcut("Content-Type", value) is None
    assert _shortcut("Content-Disposition", value) is None
    assert _shortcut("Subject", "text/plain") is None  # only the MIME headers


_ADDRESS_PIECES = [*"abcXY019.@<> \t\"\\(),:;[]'=?!#%+-_", "maria", "souza", "example.com",
                   "Maria Souza", " <", ">", "@x.example", "=?utf-8?q?Jo=C3=A3o?=", "\r\n ",
                   "João", "..", "a@b@c"]


def generated_addresses(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    values = []
    for _ in range(count):
        if rnd.random() < 0.5:  # near-valid, then mutated
            value = rnd.choice(["Maria Souza <maria.1@cliente.example.com.br>",
                                "joao@example.com", "A  B <a.b@c.d>", "X <x@y>"])
            for _ in range(rnd.randint(0, 2)):
                at = rnd.randint(0, len(value))
                value = value[:at] + rnd.choice(_ADDRESS_PIECES) + value[at:]
        else:
            value = "".join(rnd.choice(_ADDRESS_PIECES) for _ in range(rnd.randint(0, 12)))
        values.append(value)
    return values


def test_simple_addresses_decode_as_the_parsed_header_renders_them() -> None:
    taken = 0
    for value in generated_addresses(3000, seed=4):
        for name in ("From", "To", "Reply-To"):
            ours = mime.decode_header_value(name, value)
            unfolded = " ".join(value.replace("\r", "").replace("\n", "").split())
            if not value.isascii() or "=?" in value or not mime._SIMPLE_ADDRESS.fullmatch(
                    unfolded):
                continue
            taken += 1
            parsed = str(policy.default.header_fetch_parse(name, value))
            assert ours == mime.clean_text(" ".join(parsed.split())), value
    assert taken > 500


def _outcome(raw: bytes) -> Any:
    try:
        return inbound.parse(raw, ADDRESS)
    except Exception as exc:  # compared as well: the same failure either way
        return type(exc).__name__


def assert_parses_as_before(monkeypatch: pytest.MonkeyPatch, raws: list[bytes]) -> None:
    now = [_outcome(raw) for raw in raws]
    monkeypatch.setattr(mime, "PARSE_POLICY", mime.POLICY)  # the full header parse
    before = [_outcome(raw) for raw in raws]
    for n, (ours, theirs) in enumerate(zip(now, before, strict=True)):
        assert ours == theirs, raws[n][:2000]


def _mail_with(headers: list[tuple[str, str]], n: int) -> bytes:
    """A multipart mail whose parts carry the given MIME header values."""
    parts = "".join(
        f"--B{n}\r\n{name}: {value}\r\n\r\nparte {i} com acentuação\r\n"
        for i, (name, value) in enumerate(headers))
    return (f"From: Ana <ana@example.com>\r\nTo: {ADDRESS}\r\nSubject: teste {n}\r\n"
            f"Message-ID: <gen-{n}@example.com>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="B{n}"\r\n\r\n'
            f"{parts}--B{n}--\r\n").encode()


def test_generated_mime_headers_parse_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(2)
    values = generated_values(1500, seed=3)
    raws = [_mail_with([(rnd.choice(_NAMES), v), (rnd.choice(_NAMES), rnd.choice(values))], n)
            for n, v in enumerate(values)]
    # The message's own Content-Type generated too (its boundary drives the parser).
    raws += [customer_mail().replace(b"Content-Type: text/plain",
                                     b"Content-Type: " + v.encode())
             for v in values[:500]]
    assert_parses_as_before(monkeypatch, raws)


def test_hostile_mail_parses_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    raws = [*hostile.corpus().values(), hostile.many_recipients(), hostile.deep_multipart(),
            hostile.huge_header(size=1024 * 1024)]
    assert_parses_as_before(monkeypatch, raws)


def _realistic(n: int) -> bytes:
    """Like bench/email_ingest.py's mails: text and HTML, some with a PDF or a forward."""
    msg = EmailMessage()
    msg["From"] = f"Maria Souza <maria.{n}@cliente.example.com.br>"
    msg["To"] = ADDRESS
    msg["Subject"] = "Pedido atrasado" if n % 3 else "Re: [#TKT-000042] pedido"
    msg["Message-ID"] = f"<real-{n}@cliente.example.com.br>"
    msg.set_content(f"Olá, o pedido {n} não chegou.\n")
    msg.add_alternative(f"<p>Olá, o pedido {n} não chegou.</p>", subtype="html")
    if n % 2:
        msg.add_attachment(random.Random(n).randbytes(2048), maintype="application",
                           subtype="pdf", filename=f"comprovante-{n}.pdf")
    if n % 5 == 0:
        msg.add_attachment(b"%PDF", maintype="application", subtype="pdf",
                           filename=f"relatório {n}.pdf")  # RFC 2231 on the wire
    if n % 7 == 0:
        inner = EmailMessage()
        inner["Subject"] = "original"
        inner.set_content("encaminhado")
        msg.add_attachment(inner)
    return msg.as_bytes()


def test_realistic_mail_parses_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    assert_parses_as_before(monkeypatch, [_realistic(n) for n in range(60)])


def _stdlib_filename(part: Any) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    return mime.clean_text(str(name))[:255]


def _stdlib_charset(part: Any) -> str | None:
    try:
        return part.get_content_charset()  # type: ignore[no-any-return]
    except Exception:
        return None


def test_file_names_and_charsets_read_as_the_stdlib_reads_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`filename` and `charset` read simple parameters without `get_param`."""
    from email import message_from_bytes

    types, dispositions = generated_values(3000, seed=7), generated_values(3000, seed=8)
    taken = 0
    for n, (ctype, disposition) in enumerate(zip(types, dispositions, strict=True)):
        headers = ([f"Content-Type: {ctype}"] if n % 5 else []) + (
            [f"Content-Disposition: {disposition}"] if n % 3 else [])
        raw = ("\r\n".join(headers) + "\r\n\r\nol\xe1").encode("utf-8", "surrogateescape")
        part = message_from_bytes(raw, policy=mime.PARSE_POLICY)
        fast = (mime._simple_params(part, "Content-Type") is not None
                and mime._simple_params(part, "Content-Disposition") is not None)
        taken += fast
        assert mime.filename(part) == _stdlib_filename(part), raw
        assert mime.charset(part) == _stdlib_charset(part), raw
    assert taken > 300
    for value in ('text/plain; charset="UTF-8"; name="<a.pdf>"', "text/plain; name=\"\""):
        part = message_from_bytes(f"Content-Type: {value}\r\n\r\nx".encode(),
                                  policy=mime.PARSE_POLICY)
        assert mime._simple_params(part, "Content-Type") is not None
        assert mime.filename(part) == _stdlib_filename(part)
        assert mime.charset(part) == _stdlib_charset(part)


_ENCODED_PIECES = ["=?utf-8?q?Jo=C3=A3o?=", "=?UTF-8?B?Sm/Do28=?=", "=?iso-8859-1?q?Jo=E3o?=",
                   "=?utf-8?q?Silva=2C_Ana?=", "=?utf-8?q?=FF?=", "=?utf-8?q?Jo_?=",
                   "=?utf-8?q?a=09b?=", "=?utf-16?q?x?=", "=?utf-8?b?!!?=",
                   "=?utf-8?Q?M=C3=BCller?=",
                   "=?utf-8?q?=22q=22?=", "=?utf-8?q??=", "Silva", "Ana", "a.b", "\"x\"", " ",
                   "  ", "\r\n ", "(c)", ",", "<", ">", "joao@example.com", "=?", "?="]


def test_encoded_names_decode_as_through_the_parsed_header(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`decode_plain` (`decode_header_value` of an address with an encoded name) gives what
    the way through the policy's parsed header gives."""
    rnd = random.Random(9)
    values = []
    for _ in range(4000):
        name = " ".join(rnd.choice(_ENCODED_PIECES) for _ in range(rnd.randint(1, 4)))
        address = rnd.choice(["joao.9@cliente.example.com.br", "A+b@X.example", "a@b"])
        values.append(f"{name} <{address}>" if rnd.random() < 0.9 else name)
    headers = ("From", "Reply-To")
    ours = [mime.decode_header_value(h, v) for v in values for h in headers]
    taken = sum(addresses.decode_plain(" ".join(v.replace("\r", "").replace("\n", "").split()))
                is not None for v in values)
    monkeypatch.setattr(mime, "decode_plain", lambda _value: None)
    theirs = [mime.decode_header_value(h, v) for v in values for h in headers]
    for n, (got, want) in enumerate(zip(ours, theirs, strict=True)):
        assert got == want, values[n // 2]
    assert taken > 300
