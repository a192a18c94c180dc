"""CSAT fixtures: the channels' fixtures of their own tests (real SMTP sink, the 360dialog,
Telegram and API-channel fakes), a way to turn a channel's survey on, and to resolve."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from atende.channels.connector import ContactRef, InboundMessage
from atende.channels.models import Channel
from atende.csat.config import CsatSettings
from atende.tickets.models import Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.ingest import ingest
from tests.conftest import Tenant
from tests.connectors.conftest import api_channel, receiver  # noqa: F401 - fixtures
from tests.connectors.email.conftest import (
    SMTP_USER,
    make_email_channel,
    smtp_sink,  # noqa: F401 - fixture
)
from tests.connectors.telegram.conftest import tg, tg_channel, updates  # noqa: F401
from tests.connectors.whatsapp.conftest import wa, wa_channel, webhooks  # noqa: F401
from tests.fakes.smtp_sink import SmtpSink

_ids = itertools.count(1)
LINK = re.compile(r"https?://\S+/csat/([^/\s?]+)/")


def turn_on(channel: Channel, delay_minutes: int = 0, **texts: str) -> Channel:
    channel.settings = {**channel.settings, "csat": CsatSettings(
        enabled=True, delay_minutes=delay_minutes, texts=tuple(texts.items())).as_json()}
    channel.save(update_fields=["settings"])
    return channel


def resolve(ticket: Ticket, capture: Any, status: str = "resolved") -> Ticket:
    """Resolve as an agent does, with the change's on-commit work (the survey's task) run."""
    with capture(execute=True):
        return update_ticket(ticket, Actor(label="test"), status=status)


def mailed_ticket(channel: Channel, sender: str = "maria@example.com") -> Ticket:
    """A ticket opened by a customer's mail, through the one ingest."""
    n = next(_ids)
    result = ingest(InboundMessage(
        channel_id=channel.pk, external_id=f"<csat-{n}@example.com>",
        contact=ContactRef("email", sender, "Maria Souza"), subject=f"Pedido {n} atrasado",
        text="Meu pedido não chegou."), channel)
    return result.ticket


def link_path(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return f"/csat/{found.group(1)}/"


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> None:
    """The public page's per-address counter lives in the shared cache (Redis on the
    scaled profile, not cleared between tests): every test starts from none."""
    from django.core.cache import cache

    cache.delete("csat-posts:127.0.0.1")


@pytest.fixture
def mail_channel(tenant: Tenant, smtp_sink: SmtpSink) -> Channel:  # noqa: F811
    return turn_on(make_email_channel(
        tenant, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port, smtp_security="none",
        smtp_username=SMTP_USER))
