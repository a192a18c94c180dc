"""E-mail channel fixtures: a session Dovecot, an SMTP sink, a channel wired to both, and a
builder for customer mails."""

from __future__ import annotations

import itertools
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from django.utils import timezone

from atende.channels.models import Channel, ChannelKind
from tests.conftest import REQUIRE_SERVICES, Tenant
from tests.fakes import dovecot as dovecot_module
from tests.fakes.dovecot import PASSWORD, Dovecot
from tests.fakes.smtp_sink import SmtpSink

ADDRESS = "suporte@example.com"
SMTP_USER, SMTP_PASSWORD = "smtp-user", "smtp-pass"
_ids = itertools.count(1)


def customer_mail(subject: str = "Pedido atrasado", text: str = "Meu pedido não chegou.",
                  sender: str = "Maria Souza <maria@example.com>", to: str = ADDRESS,
                  message_id: str | None = None, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or f"<cust-{next(_ids)}-{uuid.uuid4().hex[:8]}@example.com>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return msg.as_bytes()


def png(red: int = 255) -> bytes:
    """A real one-pixel PNG (no imaging library needed), for signature images."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes([0, red, 0, 0]))) + chunk(b"IEND", b""))


def turn_on(channel: Channel, event: str, language: str = "pt-br", **text: str) -> None:
    """The channel's `event` notification on, with its default text unless given."""
    from atende.connectors.email.models import NotificationTemplate
    from atende.connectors.email.notification_texts import default_text

    default = default_text(event, language)
    NotificationTemplate.objects.update_or_create(
        organization_id=channel.organization_id, channel=channel, event=event,
        language=language, defaults={"enabled": True,
                                     "subject": text.get("subject", default.subject),
                                     "body": text.get("body", default.body)})


@pytest.fixture
def dovecot_server() -> Iterator[Dovecot]:
    """One per test (it starts in ~50 ms): failed logins in one test put Dovecot's per-IP
    auth penalty on the next test's logins."""
    if not dovecot_module.available():
        if REQUIRE_SERVICES:
            pytest.fail("Dovecot is not installed or we are not root (ATENDE_REQUIRE_SERVICES=1)")
        pytest.skip("Dovecot is not installed here (apt-get install dovecot-imapd dovecot-pop3d)")
    with Dovecot() as server:
        yield server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink(SMTP_USER, SMTP_PASSWORD) as sink:
        yield sink


@dataclass
class Mailbox:
    server: Dovecot
    user: str

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        self.server.append(self.user, raw, folder, flags)

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        return self.server.flags(self.user, folder)


@pytest.fixture
def mailbox(dovecot_server: Dovecot) -> Mailbox:
    return Mailbox(dovecot_server, f"box-{uuid.uuid4().hex[:10]}@example.com")


def make_email_channel(tenant: Tenant, **settings: Any) -> Channel:
    channel = Channel(organization=tenant.org, kind=ChannelKind.EMAIL, name="Suporte",
                      service=tenant.service,
                      settings={"address": ADDRESS, "in_protocol": "imap", **settings})
    channel.secrets = {"in_password": PASSWORD, "smtp_password": SMTP_PASSWORD}
    channel.save()
    return channel


@pytest.fixture
def email_channel(tenant: Tenant) -> Channel:
    """A channel with no servers: for parsing and ingest tests."""
    return make_email_channel(tenant)


@pytest.fixture
def imap_channel(tenant: Tenant, mailbox: Mailbox, smtp_sink: SmtpSink) -> Channel:
    return make_email_channel(
        tenant, in_host=mailbox.server.host, in_port=mailbox.server.imap_port,
        in_security="none", in_username=mailbox.user,
        smtp_host=smtp_sink.host, smtp_port=smtp_sink.port, smtp_security="none",
        smtp_username=SMTP_USER,
    )
