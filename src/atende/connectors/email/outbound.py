"""`OutboundMessage` → a mail through the channel's SMTP server.

Network trouble and 4xx answers are retried (the sending pipeline backs off); 5xx answers
and a refused login fail the message with the server's words. The Message-ID we sent is the
message's external id and a thread key, so the customer's reply finds the ticket.
"""

from __future__ import annotations

import smtplib
from dataclasses import replace
from email.message import EmailMessage

from django.utils.translation import gettext as _

from atende.channels.connector import OutboundMessage, SendResult, TestResult
from atende.channels.models import Channel
from atende.connectors.email import thread_keys
from atende.connectors.email.client import MailError, open_smtp
from atende.connectors.email.compose import Draft, compose, new_message_id, references_chain
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.loops import automatic_headers, claim_automatic_mail
from atende.connectors.email.oauth import with_token
from atende.contacts.models import ContactIdentity, IdentityKind
from atende.tickets.models import Direction, Message, Ticket
from atende.tickets.services.threads import remember_thread_key


def send(channel: Channel, message: OutboundMessage) -> SendResult:
    cfg = EmailSettings.of(channel)
    to = recipient_address(channel, message)
    if not to:
        return SendResult(ok=False, error=_("The contact has no e-mail address."))
    in_reply_to, references = thread_headers(channel, message)
    number = int(message.protocol.rpartition("-")[2] or 0)
    draft = Draft(
        to=to, subject=thread_keys.reply_subject(message.subject, number),
        text=message.text, html=message.html, in_reply_to=in_reply_to,
        references=references, attachments=message.attachments,
    )
    message_id = new_message_id(cfg, message.protocol)
    result = deliver(cfg, compose(cfg, draft, message_id), to, channel)
    if result.ok:
        remember_thread_key(message.ticket_id, channel, message_id)
        return SendResult(ok=True, external_id=message_id)
    return result


def check_connection(channel: Channel) -> TestResult:
    from atende.connectors.email.checks import check_settings

    return check_settings(channel)


def recipient_address(channel: Channel, message: OutboundMessage) -> str:
    if message.recipient is not None and message.recipient.kind == IdentityKind.EMAIL:
        return message.recipient.value
    contact_id = Ticket.objects.for_org(channel.organization_id).filter(
        pk=message.ticket_id).values_list("contact_id", flat=True).first()
    value: str | None = ContactIdentity.objects.for_org(channel.organization_id).filter(
        contact_id=contact_id, kind=IdentityKind.EMAIL,
    ).order_by("created_at").values_list("value", flat=True).first()
    return value or ""


def thread_headers(channel: Channel, message: OutboundMessage) -> tuple[str, tuple[str, ...]]:
    """In-Reply-To: the customer's latest mail (else our latest); References: the ticket's
    mails on this channel in order."""
    rows = list(
        Message.objects.for_org(channel.organization_id)
        .filter(ticket_id=message.ticket_id, channel=channel)
        .exclude(external_id="").exclude(pk=message.message_id)
        .order_by("created_at", "id").values_list("external_id", "direction")
    )
    inbound = [i for i, d in rows if d == Direction.INBOUND]
    last = inbound[-1] if inbound else (rows[-1][0] if rows else "")
    return last, references_chain([i for i, _d in rows])


def deliver(cfg: EmailSettings, mail: EmailMessage, to: str, channel: Channel) -> SendResult:
    try:
        conn = with_token(channel, lambda token: open_smtp(cfg.smtp, token,
                                                           local_hostname=cfg.domain))
    except MailError as exc:
        return SendResult(ok=False, error=str(exc), retryable=exc.step not in ("auth", "blocked"))
    try:
        conn.send_message(mail, from_addr=cfg.address, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (550, b""))
        return _answer(code, reply)
    except smtplib.SMTPResponseException as exc:
        return _answer(exc.smtp_code, exc.smtp_error)
    except (smtplib.SMTPException, OSError) as exc:
        return SendResult(ok=False, error=f"smtp: {exc}", retryable=True)
    finally:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()
    return SendResult(ok=True)


def _answer(code: int, reply: bytes | str) -> SendResult:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return SendResult(ok=False, error=f"smtp {code}: {text}"[:2000], retryable=400 <= code < 500)


DAILY_CAP_REACHED = "daily cap of automatic mail reached"


def send_automatic(channel: Channel, draft: Draft, kind: str = "auto-replied",
                   protocol: str = "auto", *, counted: bool = False) -> SendResult:
    """A mail no person wrote (acknowledgement, notification): loop headers always, and at
    most the channel's daily cap per address (`counted`: a retry, already counted). Never
    call it for mail whose inbound message carries `no_auto_reply`. When sent,
    `external_id` is the mail's Message-ID."""
    cfg = EmailSettings.of(channel)
    if not counted and not claim_automatic_mail(channel, draft.to, cfg.auto_daily_cap):
        return SendResult(ok=False, error=DAILY_CAP_REACHED)
    headers = tuple(automatic_headers(kind).items())
    draft = replace(draft, extra_headers=(*draft.extra_headers, *headers))
    message_id = new_message_id(cfg, protocol)
    result = deliver(cfg, compose(cfg, draft, message_id), draft.to, channel)
    return replace(result, external_id=message_id) if result.ok else result
