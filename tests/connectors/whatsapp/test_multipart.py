"""An answer with several files goes out as several WhatsApp messages: every part's wamid
is kept, statuses of any part reach the timeline entry, and a retry after a partial failure
sends only the parts the provider has not accepted yet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from atende.channels.models import Channel, ChannelKind
from atende.connectors.whatsapp.models import SentPart
from atende.connectors.whatsapp.parts import apply_part_status
from atende.tickets.models import DeliveryStatus, Message
from atende.tickets.services.replies import NewAttachment
from atende.tickets.services.sending import send_queued_message
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import Webhooks
from tests.connectors.whatsapp.test_outbound import make_due, reply, ticket  # noqa: F401
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db
FILES = [NewAttachment("recado.ogg", "audio/ogg", b"OggS"),
         NewAttachment("boleto.pdf", "application/pdf", b"%PDF")]


def wamids(message: Message) -> list[str]:
    return list(SentPart.objects.filter(message=message).order_by("position")
                .values_list("wamid", flat=True))


def test_every_part_is_kept_and_the_entry_shows_the_least_advanced_part(
        wa: FakeDialog360, webhooks: Webhooks, reply: Callable[..., Message]) -> None:  # noqa: F811
    message = reply(text="Áudio e boleto", attachments=FILES)
    parts = wamids(message)
    assert len(parts) == 3 and len(set(parts)) == 3
    assert message.external_id == parts[0]
    assert [s["type"] for s in wa.sent] == ["text", "audio", "document"]

    webhooks.flush()  # sent + delivered for each part
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED
    wa.status(parts[0], "read")
    wa.status(parts[2], "read")
    webhooks.flush()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED  # the audio is not read yet
    wa.status(parts[1], "read")
    webhooks.flush()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.READ and message.read_at


def test_a_failed_part_fails_the_entry_with_the_providers_reason(
        wa: FakeDialog360, webhooks: Webhooks, reply: Callable[..., Message]) -> None:  # noqa: F811
    message = reply(text="Áudio e boleto", attachments=FILES)
    parts = wamids(message)
    wa.outbox.clear()
    wa.status(parts[0], "delivered")
    wa.status(parts[2], "failed", errors=[{"code": 131053, "title": "Media upload error"}])
    wa.status(parts[2], "delivered")  # late and contradictory: the failure stays
    webhooks.flush()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "131053" in message.failure_reason


def test_retry_after_a_partial_failure_sends_only_the_missing_parts(
        wa: FakeDialog360, webhooks: Webhooks, reply: Callable[..., Message]) -> None:  # noqa: F811
    wa.fail_next(503, path_prefix="/media")  # the text goes out, the audio's upload fails
    message = reply(text="Áudio e boleto", attachments=FILES)
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert [s["type"] for s in wa.sent] == ["text"]
    [first] = wamids(message)

    # The text's statuses arrive while the rest is still pending: kept on the part.
    webhooks.flush()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert SentPart.objects.get(wamid=first).status == DeliveryStatus.DELIVERED

    make_due(message)
    send_queued_message(message.pk)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT and message.external_id == first
    assert [s["type"] for s in wa.sent] == ["text", "audio", "document"]
    assert len(wa.media) == 2  # each file uploaded once
    assert len(wamids(message)) == 3


def test_a_status_from_another_organisations_channel_finds_nothing(
        wa: FakeDialog360, reply: Callable[..., Message], other_tenant: Tenant,  # noqa: F811
        wa_channel: Channel, django_assert_max_num_queries: Any) -> None:
    message = reply(text="Áudio e boleto", attachments=FILES)
    foreign = Channel.objects.create(organization=other_tenant.org, kind=ChannelKind.WHATSAPP,
                                     name="WhatsApp Globex")
    assert apply_part_status(foreign, wamids(message)[0], "read") is None
    with django_assert_max_num_queries(6):
        applied = apply_part_status(wa_channel, wamids(message)[0], "read")
    assert applied is not None and applied[0] == message
    assert applied[1] == DeliveryStatus.SENT  # the other two parts are only sent
