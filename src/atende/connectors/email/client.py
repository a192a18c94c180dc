"""Logged-in IMAP, POP3 and SMTP connections. Every failure is a `MailError` naming the step
that failed (dns, connect, tls, auth), so "Test settings" and the poller can say exactly what
went wrong."""

from __future__ import annotations

import base64
import imaplib
import poplib
import smtplib
import socket
import ssl
from collections.abc import Callable

from atende.connectors.email.config import OAUTH2, SSL, STARTTLS, TIMEOUT, Endpoint

# poplib refuses lines over 2 KB; mail with huge headers must still be read (it is bounded
# by the server's message size anyway).
poplib._MAXLINE = max(poplib._MAXLINE, 64 * 1024 * 1024)  # type: ignore[attr-defined]


class MailError(Exception):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step
        self.detail = detail


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response, before base64 (CONTRACTS §6.4)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def xoauth2_base64(user: str, token: str) -> str:
    return base64.b64encode(xoauth2(user, token).encode()).decode()


def resolve(host: str, port: int) -> None:
    if not host:
        raise MailError("dns", "no server name")
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise MailError("dns", f"{host}: {exc}") from exc


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def open_imap(ep: Endpoint, token: str = "") -> imaplib.IMAP4:
    resolve(ep.host, ep.port)
    try:
        if ep.security == SSL:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(ep.host, ep.port, ssl_context=_tls_context(),
                                                    timeout=TIMEOUT)
        else:
            conn = imaplib.IMAP4(ep.host, ep.port, timeout=TIMEOUT)
    except ssl.SSLError as exc:
        raise MailError("tls", _describe(exc)) from exc
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailError("connect", _describe(exc)) from exc
    try:
        if ep.security == STARTTLS:
            try:
                conn.starttls(ssl_context=_tls_context())
            except (ssl.SSLError, imaplib.IMAP4.error, OSError) as exc:
                raise MailError("tls", _describe(exc)) from exc
        try:
            if ep.auth == OAUTH2:
                conn.authenticate("XOAUTH2", _xoauth2_answers(ep.username, token))
            else:
                conn.login(ep.username, ep.password)
        except imaplib.IMAP4.error as exc:
            raise MailError("auth", _describe(exc)) from exc
    except BaseException:
        _close_quietly(conn.shutdown)
        raise
    return conn


def _xoauth2_answers(user: str, token: str) -> Callable[[bytes], bytes]:
    """The token first; to the error challenge that may follow (base64 JSON), an empty line,
    after which the server sends its final NO (CONTRACTS §6.4)."""
    sent: list[bool] = []

    def answer(_challenge: bytes) -> bytes:
        if sent:
            return b""
        sent.append(True)
        return xoauth2(user, token).encode()
    return answer


def open_pop3(ep: Endpoint, token: str = "") -> poplib.POP3:
    resolve(ep.host, ep.port)
    try:
        if ep.security == SSL:
            conn: poplib.POP3 = poplib.POP3_SSL(ep.host, ep.port, context=_tls_context(),
                                                timeout=TIMEOUT)
        else:
            conn = poplib.POP3(ep.host, ep.port, timeout=TIMEOUT)
    except ssl.SSLError as exc:
        raise MailError("tls", _describe(exc)) from exc
    except (OSError, poplib.error_proto) as exc:
        raise MailError("connect", _describe(exc)) from exc
    try:
        if ep.security == STARTTLS:
            try:
                conn.stls(context=_tls_context())
            except (ssl.SSLError, poplib.error_proto, OSError) as exc:
                raise MailError("tls", _describe(exc)) from exc
        try:
            if ep.auth == OAUTH2:
                _pop3_xoauth2(conn, ep.username, token)
            else:
                conn.user(ep.username)
                conn.pass_(ep.password)
        except poplib.error_proto as exc:
            raise MailError("auth", _describe(exc)) from exc
    except BaseException:
        _close_quietly(conn.close)
        raise
    return conn


def _pop3_xoauth2(conn: poplib.POP3, user: str, token: str) -> None:
    """`AUTH XOAUTH2 <b64>` with the initial response (RFC 5034); poplib has no AUTH."""
    conn._putcmd("AUTH XOAUTH2 " + xoauth2_base64(user, token))  # type: ignore[attr-defined]
    resp: bytes = conn._getresp()  # type: ignore[attr-defined]  # raises on -ERR
    if resp.startswith(b"+ ") or resp == b"+":
        # A challenge instead of +OK: the token was refused; an empty line gets the -ERR.
        conn._putcmd("")  # type: ignore[attr-defined]
        conn._getresp()  # type: ignore[attr-defined]
        raise poplib.error_proto(resp)


def open_smtp(ep: Endpoint, token: str = "", local_hostname: str | None = None) -> smtplib.SMTP:
    resolve(ep.host, ep.port)
    try:
        if ep.security == SSL:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(ep.host, ep.port, timeout=TIMEOUT,
                                                  context=_tls_context(),
                                                  local_hostname=local_hostname)
        else:
            conn = smtplib.SMTP(ep.host, ep.port, timeout=TIMEOUT, local_hostname=local_hostname)
    except ssl.SSLError as exc:
        raise MailError("tls", _describe(exc)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError("connect", _describe(exc)) from exc
    try:
        if ep.security == STARTTLS:
            try:
                conn.starttls(context=_tls_context())
            except (ssl.SSLError, smtplib.SMTPException, OSError) as exc:
                raise MailError("tls", _describe(exc)) from exc
        if ep.auth == OAUTH2:
            _smtp_auth(conn, "XOAUTH2", xoauth2(ep.username, token))
        elif ep.username:
            _smtp_login(conn, ep.username, ep.password)
    except BaseException:
        _close_quietly(conn.close)
        raise
    return conn


def _smtp_login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """One mechanism, not smtplib's try-them-all: after a refused password some servers
    leave the next mechanism hanging until the timeout."""
    try:
        conn.ehlo_or_helo_if_needed()
        advertised = conn.esmtp_features.get("auth", "").upper().split()
        for mechanism in ("PLAIN", "LOGIN", "CRAM-MD5"):
            if mechanism in advertised:
                conn.user, conn.password = user, password
                method = getattr(conn, "auth_" + mechanism.lower().replace("-", "_"))
                conn.auth(mechanism, method, initial_response_ok=True)
                return
        conn.login(user, password)
    except smtplib.SMTPException as exc:
        raise MailError("auth", _describe(exc)) from exc


def _smtp_auth(conn: smtplib.SMTP, mechanism: str, response: str) -> None:
    try:
        conn.ehlo_or_helo_if_needed()
        conn.auth(mechanism, lambda challenge=None: response, initial_response_ok=True)
    except smtplib.SMTPException as exc:
        raise MailError("auth", _describe(exc)) from exc


def _close_quietly(close: object) -> None:
    try:
        close()  # type: ignore[operator]
    except (OSError, imaplib.IMAP4.error, poplib.error_proto, smtplib.SMTPException):
        return
