"""Logged-in IMAP, POP3 and SMTP connections. Every failure is a `MailError` naming the step
that failed (blocked, dns, connect, tls, auth), so "Test settings" and the poller can say
exactly what went wrong.

The servers are typed by organisations' admins, so every connection goes through the SSRF
guard (atende.net): the name is resolved once, the addresses checked, and a checked address
dialled; TLS still verifies the certificate for the name. Until the greeting is read the
other end is unknown: what it sent is never repeated (it could be any service's banner).
"""

from __future__ import annotations

import base64
import imaplib
import poplib
import smtplib
import socket
import ssl
from collections.abc import Callable

from django.utils.translation import gettext as _

from atende.connectors.email.config import OAUTH2, SSL, STARTTLS, TIMEOUT, Endpoint
from atende.net import BlockedDestination, UnresolvedName, open_connection

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


# The socket factories of imaplib, poplib and smtplib (the methods their SSL variants
# override too), so that every connection is opened by the guard.
class GuardedIMAP4(imaplib.IMAP4):
    def _create_socket(self, timeout: float | None) -> socket.socket:
        return open_connection(self.host, self.port, timeout or TIMEOUT)


class GuardedIMAP4SSL(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = open_connection(self.host, self.port, timeout or TIMEOUT)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class GuardedPOP3(poplib.POP3):
    def _create_socket(self, timeout: float) -> socket.socket:
        return open_connection(self.host, self.port, timeout or TIMEOUT)


class GuardedPOP3SSL(poplib.POP3_SSL):
    def _create_socket(self, timeout: float) -> socket.socket:
        sock = open_connection(self.host, self.port, timeout or TIMEOUT)
        return self.context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class GuardedSMTP(smtplib.SMTP):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return open_connection(host, port, timeout or TIMEOUT)


class GuardedSMTPSSL(smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = open_connection(host, port, timeout or TIMEOUT)
        return self.context.wrap_socket(sock, server_hostname=self._host)  # type: ignore[attr-defined]


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _connect_failure(exc: BaseException, protocol: str) -> MailError:
    """The failure of opening a connection, in a few words of ours: never what the other
    end sent (that would make "Test settings" read other services' banners)."""
    if isinstance(exc, BlockedDestination):
        return MailError("blocked", str(exc))
    if isinstance(exc, UnresolvedName):
        return MailError("dns", _("the name has no address."))
    if isinstance(exc, ssl.SSLError):
        return MailError("tls", _describe(exc))
    if isinstance(exc, TimeoutError):
        return MailError("connect", _("no answer within %(seconds)s s.")
                         % {"seconds": f"{TIMEOUT:g}"})
    if isinstance(exc, ConnectionRefusedError):
        return MailError("connect", _("the connection was refused."))
    if isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException):
        return MailError("connect", _("the network connection failed."))
    return MailError("connect", _("the server did not answer in %(protocol)s.")
                     % {"protocol": protocol})


def _no_host(ep: Endpoint) -> None:
    if not ep.host:
        raise MailError("dns", _("no server name."))


def open_imap(ep: Endpoint, token: str = "") -> imaplib.IMAP4:
    _no_host(ep)
    try:
        if ep.security == SSL:
            conn: imaplib.IMAP4 = GuardedIMAP4SSL(ep.host, ep.port, ssl_context=_tls_context(),
                                                  timeout=TIMEOUT)
        else:
            conn = GuardedIMAP4(ep.host, ep.port, timeout=TIMEOUT)
    except (BlockedDestination, OSError, imaplib.IMAP4.error) as exc:
        raise _connect_failure(exc, "IMAP") from exc
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
    _no_host(ep)
    try:
        if ep.security == SSL:
            conn: poplib.POP3 = GuardedPOP3SSL(ep.host, ep.port, context=_tls_context(),
                                               timeout=TIMEOUT)
        else:
            conn = GuardedPOP3(ep.host, ep.port, timeout=TIMEOUT)
    except (BlockedDestination, OSError, poplib.error_proto) as exc:
        raise _connect_failure(exc, "POP3") from exc
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
    _no_host(ep)
    try:
        if ep.security == SSL:
            conn: smtplib.SMTP = GuardedSMTPSSL(ep.host, ep.port, timeout=TIMEOUT,
                                                context=_tls_context(),
                                                local_hostname=local_hostname)
        else:
            conn = GuardedSMTP(ep.host, ep.port, timeout=TIMEOUT, local_hostname=local_hostname)
    except (BlockedDestination, OSError, smtplib.SMTPException) as exc:
        raise _connect_failure(exc, "SMTP") from exc
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
