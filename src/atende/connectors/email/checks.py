""""Test settings" (EM-7): log in to the incoming server and open the folder, log in to SMTP
and send a test message to the channel's own address. The answer is "Settings OK" or the
step that failed (blocked, dns, connect, tls, auth, folder, send) with a short reason; the
server's own words only once it has answered as a mail server (auth, folder, send)."""

from __future__ import annotations

import contextlib
import imaplib
import poplib
import smtplib

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atende.channels.connector import TestResult
from atende.channels.models import Channel
from atende.connectors.email.client import MailError, open_imap, open_pop3, open_smtp
from atende.connectors.email.compose import Draft, compose, new_message_id
from atende.connectors.email.config import OAUTH2, POP3, EmailSettings, Endpoint
from atende.connectors.email.imap import select_folder
from atende.connectors.email.loops import automatic_headers
from atende.connectors.email.oauth import token_for

STEP_MESSAGES = {
    "blocked": gettext_lazy("%(side)s: %(server)s cannot be used: %(detail)s Only the "
                            "operator of this Atende server can allow mail servers on "
                            "private networks."),
    "dns": gettext_lazy("%(side)s: the server name %(server)s could not be found (DNS). "
                        "%(detail)s"),
    "connect": gettext_lazy("%(side)s: could not connect to %(server)s. %(detail)s"),
    "tls": gettext_lazy("%(side)s: the secure connection (TLS) to %(server)s failed. "
                        "%(detail)s"),
    "auth": gettext_lazy("%(side)s: %(server)s refused the user name or password. "
                         "%(detail)s"),
    "folder": gettext_lazy("%(side)s: the folder could not be opened on %(server)s. "
                           "%(detail)s"),
    "send": gettext_lazy("%(side)s: %(server)s did not accept the test message. %(detail)s"),
}
OAUTH2_REFUSED = gettext_lazy("%(side)s: the OAuth2 sign-in at %(server)s was refused; if "
                              "access was revoked, connect the mailbox again. %(detail)s")


def check_settings(channel: Channel) -> TestResult:
    cfg = EmailSettings.of(channel)
    incoming = "pop3" if cfg.protocol == POP3 else "imap"
    try:
        _check_incoming(cfg, token_for(channel))
    except MailError as exc:
        return _failed(incoming, _("Incoming mail"), cfg.inbound, exc)
    try:
        _send_test_message(cfg, token_for(channel))
    except MailError as exc:
        return _failed("smtp", _("Outgoing mail"), cfg.smtp, exc)
    return TestResult(ok=True, message=_("Settings OK"))


def _check_incoming(cfg: EmailSettings, token: str) -> None:
    if cfg.protocol == POP3:
        pop = open_pop3(cfg.inbound, token)
        try:
            pop.stat()
        except poplib.error_proto as exc:
            raise MailError("folder", str(exc)) from exc
        finally:
            with contextlib.suppress(OSError, poplib.error_proto):
                pop.quit()
        return
    imap = open_imap(cfg.inbound, token)
    try:
        select_folder(imap, cfg.folder)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()


def _send_test_message(cfg: EmailSettings, token: str) -> None:
    draft = Draft(
        to=cfg.address, subject=_("Atende: test message"),
        text=_("This message checks the channel's settings; it will not open a ticket."),
        extra_headers=tuple(automatic_headers("auto-generated").items()),
    )
    mail = compose(cfg, draft, new_message_id(cfg, "test"))
    smtp = open_smtp(cfg.smtp, token, local_hostname=cfg.domain)
    try:
        smtp.send_message(mail, from_addr=cfg.address, to_addrs=[cfg.address])
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError("send", str(exc)) from exc
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()


def _failed(side_code: str, side: str, endpoint: Endpoint, exc: MailError) -> TestResult:
    template = STEP_MESSAGES.get(exc.step, STEP_MESSAGES["connect"])
    if exc.step == "auth" and endpoint.auth == OAUTH2:
        template = OAUTH2_REFUSED
    message = str(template) % {"side": side, "server": f"{endpoint.host}:{endpoint.port}",
                               "detail": " ".join(exc.detail.split())[:300]}
    return TestResult(ok=False, message=message.strip(), step=f"{side_code}.{exc.step}")
