"""The IMAP IDLE exchange (RFC 2177) over an imaplib connection.

imaplib has no IDLE before Python 3.14, so the few lines are spoken here through its public
`send` / `readline`. A socket timeout would leave imaplib's buffered reader unusable, so the
wait is a `select` on the socket, after checking that nothing is already buffered (plain or
decrypted TLS data). Any line the server sends while idling ends the IDLE: it is cheap to
start again, and everything the server said is then read up to the tagged completion, so no
`EXISTS` can hide in a buffer.
"""

from __future__ import annotations

import imaplib
import itertools
import re
import select
import ssl
import time
from collections.abc import Callable

from atende.connectors.email.config import TIMEOUT

_tags = itertools.count(1)
EXISTS = re.compile(rb"^\* \d+ EXISTS\b", re.IGNORECASE)


class IdleError(OSError):
    """The connection broke or the server refused IDLE: reconnect."""


def supports_idle(conn: imaplib.IMAP4) -> bool:
    """Asked after login: capabilities may change once authenticated (RFC 3501 §7.2.1)."""
    typ, data = conn.capability()
    if typ != "OK" or not data or not isinstance(data[0], bytes):
        return "IDLE" in conn.capabilities
    return b"IDLE" in data[0].upper().split()


def _line(conn: imaplib.IMAP4) -> bytes:
    line = conn.readline()
    if not line:
        raise IdleError("the server closed the connection")
    return line


def _buffered(conn: imaplib.IMAP4) -> bool:
    """Data already read from the socket but not yet consumed (a non-blocking peek)."""
    sock = conn.sock
    sock.setblocking(False)
    try:
        return bool(conn.file.peek(1))  # type: ignore[union-attr]
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(TIMEOUT)


def _readable(conn: imaplib.IMAP4, timeout: float) -> bool:
    if _buffered(conn):
        return True
    ready, _, _ = select.select([conn.sock], [], [], max(timeout, 0))
    return bool(ready)


def idle(conn: imaplib.IMAP4, seconds: float, *, tick: float = 1.0,
         keep_going: Callable[[], bool] = lambda: True) -> bool:
    """Idle on the selected folder for at most `seconds` (callers re-issue it well within
    the 29 minutes servers allow). True if new mail may have arrived (an `EXISTS`).
    `keep_going` is called every `tick` seconds; False ends the IDLE early."""
    tag = f"W{next(_tags)}".encode()
    conn.send(tag + b" IDLE\r\n")
    lines: list[bytes] = []
    while True:  # untagged updates may come before the continuation
        line = _line(conn)
        if line.startswith(b"+"):
            break
        if line.startswith(tag):
            raise IdleError(f"IDLE refused: {line.decode('utf-8', 'replace').strip()}")
        lines.append(line)
    deadline = time.monotonic() + seconds
    if not lines:
        while time.monotonic() < deadline and keep_going():
            if _readable(conn, min(tick, deadline - time.monotonic())):
                lines.append(_line(conn))
                break
    conn.send(b"DONE\r\n")
    while True:
        line = _line(conn)
        if line.startswith(tag + b" "):
            if not line[len(tag) + 1:].upper().startswith(b"OK"):
                raise IdleError(f"IDLE failed: {line.decode('utf-8', 'replace').strip()}")
            break
        lines.append(line)
    return any(EXISTS.match(line) for line in lines)
