"""A real SMTP server (aiosmtpd) on a free port of 127.0.0.1 that keeps what it receives.

It can require a login, and answer the next deliveries with given failures:
`sink.fail_next("451 4.3.0 try later")`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.fakes.processes import free_port


@dataclass
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed: EmailMessage = message_from_bytes(self.data, policy=policy.default)  # type: ignore[assignment]
        return parsed


@dataclass
class _Handler:
    deliveries: list[Delivery] = field(default_factory=list)
    failures: deque[str] = field(default_factory=deque)

    # (user, access token) a client must present with AUTH XOAUTH2; None: mechanism refused.
    oauth: tuple[str, str] | None = None

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        import base64

        if self.oauth is None or len(args) < 2:
            return AuthResult(success=False, handled=False)
        user, token = self.oauth
        expected = f"user={user}\x01auth=Bearer {token}\x01\x01"
        try:
            given = base64.b64decode(args[1]).decode()
        except ValueError:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=given == expected, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.failures:
            return self.failures.popleft()
        self.deliveries.append(Delivery(envelope.mail_from, list(envelope.rcpt_tos),
                                        envelope.original_content or envelope.content))
        return "250 OK"


class SmtpSink:
    def __init__(self, username: str = "", password: str = "") -> None:
        self.handler = _Handler()
        self.port = free_port()
        self.host = "127.0.0.1"
        self.username, self.password = username, password
        kwargs: dict[str, Any] = {"auth_require_tls": False}
        if username:
            kwargs["authenticator"] = self._authenticate
        # A fixed server name: the default asks DNS for our FQDN, slow on some machines.
        self.controller = Controller(self.handler, hostname=self.host, port=self.port,
                                     server_hostname="localhost",
                                     **kwargs)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and \
            auth_data.login.decode() == self.username and \
            auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def deliveries(self) -> list[Delivery]:
        return self.handler.deliveries

    def fail_next(self, *answers: str) -> None:
        self.handler.failures.extend(answers)
