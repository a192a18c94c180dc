"""Inbound webhooks (WA-2): verified, stored first, processed into timeline entries."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import explain
from atende.connectors.whatsapp.channels import save_channel
from atende.contacts.models import ContactIdentity
from atende.tickets.models import Attachment, Direction, Message, Ticket
from tests.connectors.whatsapp.conftest import (
    CUSTOMER,
    CUSTOMER_OLD_FORM,
    Webhooks,
    channel_form,
)
from tests.fakes.dialog360 import FakeDialog360
from tests.test_json_input import DEEP_BODY

pytestmark = pytest.mark.django_db


def entries(channel: Channel) -> list[Message]:
    return list(Message.objects.filter(channel=channel, direction=Direction.INBOUND)
                .order_by("created_at", "id"))


def test_text_message_opens_a_ticket_for_the_contact(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    wa.customer_sends(CUSTOMER, "Meu pedido atrasou", name="Maria Souza")
    assert webhooks.flush() == [200]

    [message] = entries(wa_channel)
    ticket = message.ticket
    assert message.text == "Meu pedido atrasou" and message.external_id.startswith("wamid.")
    assert ticket.subject == "Meu pedido atrasou" and ticket.channel == wa_channel
    assert ticket.service == wa_channel.service and ticket.contact.name == "Maria Souza"
    identity = ContactIdentity.objects.get(contact=ticket.contact)
    assert (identity.kind, identity.value) == ("whatsapp", "+5511987654321")
    event = InboundEvent.objects.get(channel=wa_channel)
    assert event.status == InboundStatus.PROCESSED and event.message == message
    assert event.provider_id == message.external_id


def test_wrong_or_missing_secret_is_refused_and_logged(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks,
        caplog: pytest.LogCaptureFixture) -> None:
    body = wa.customer_sends(CUSTOMER, "Oi")
    with caplog.at_level(logging.WARNING, logger="atende.connectors.whatsapp.views"):
        assert webhooks.post(body, headers={}).status_code == 401
        assert webhooks.post(body, headers={"X-Atende-Webhook-Token": "guess"}).status_code \
            == 401
    assert "refused" in caplog.text and "guess" not in caplog.text
    assert not InboundEvent.objects.exists() and not Message.objects.exists()


def test_duplicates_and_reordering_leave_one_entry_each_in_provider_order(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    start = wa.now - 300
    for n in range(4):
        wa.customer_sends(CUSTOMER, f"mensagem {n}", at=start + n * 10)
    bodies = list(wa.outbox)
    assert webhooks.flush(reverse=True) == [200] * 4
    for body in (bodies[2], bodies[0], bodies[2]):  # the provider's retries
        assert webhooks.post(body).status_code == 200

    texts = [m.text for m in entries(wa_channel)]
    assert texts == ["mensagem 0", "mensagem 1", "mensagem 2", "mensagem 3"]
    assert Ticket.objects.count() == 1
    assert InboundEvent.objects.filter(channel=wa_channel).count() == 4


def test_brazilian_number_with_and_without_ninth_digit_is_one_contact(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    wa.customer_sends(CUSTOMER, "com nove")
    wa.customer_sends(CUSTOMER_OLD_FORM, "sem nove")
    webhooks.flush()
    first, second = entries(wa_channel)
    assert first.ticket_id == second.ticket_id
    assert first.author_contact_id == second.author_contact_id
    assert ContactIdentity.objects.filter(kind="whatsapp").count() == 1


def test_legacy_flat_payload_and_image_media_is_downloaded_as_attachment(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    photo = b"\xff\xd8\xff\xe0fake-jpeg-bytes"
    media_id = wa.store_media(photo, "image/jpeg")
    wa.customer_sends(CUSTOMER, kind="image", legacy=True, content={
        "id": media_id, "mime_type": "image/jpeg", "sha256": "x", "caption": "foto"})
    webhooks.flush()

    [message] = entries(wa_channel)
    assert message.text == "foto"
    [attachment] = Attachment.objects.filter(message=message)
    assert attachment.content_type == "image/jpeg" and attachment.file.read() == photo
    assert ("GET", "/" + media_id) in wa.requests


@pytest.mark.parametrize(("kind", "content", "expected"), [
    ("location", {"latitude": -23.5, "longitude": -46.6, "name": "Loja", "address": "Av. X"},
     ["Loja — Av. X", "maps.google.com/?q=-23.5,-46.6"]),
    ("contacts", [{"name": {"formatted_name": "João"}, "phones": [{"phone": "+55 11 5555"}]}],
     ["João +55 11 5555"]),
    ("interactive", {"type": "button_reply", "button_reply": {"id": "opt1", "title": "Sim"}},
     ["Sim"]),
    ("button", {"payload": "p", "text": "Quero falar"}, ["Quero falar"]),
    ("order", {"catalog_id": "1"}, ["order"]),
])
def test_every_type_becomes_an_entry(wa: FakeDialog360, wa_channel: Channel,
                                     webhooks: Webhooks, kind: str, content: Any,
                                     expected: list[str]) -> None:
    wa.customer_sends(CUSTOMER, kind=kind, content=content)
    webhooks.flush()
    [message] = entries(wa_channel)
    for fragment in expected:
        assert fragment in message.text


def test_document_and_voice_keep_file_names_and_types(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    pdf = wa.store_media(b"%PDF-1.4 boleto", "application/pdf")
    ogg = wa.store_media(b"OggS voice", "audio/ogg")
    wa.customer_sends(CUSTOMER, kind="document", content={
        "id": pdf, "mime_type": "application/pdf", "filename": "boleto.pdf"})
    wa.customer_sends(CUSTOMER, kind="audio", content={
        "id": ogg, "mime_type": "audio/ogg; codecs=opus", "voice": True})
    webhooks.flush()
    names = sorted(Attachment.objects.values_list("filename", "content_type"))
    assert names[0][0].startswith(f"audio-{ogg}") and names[0][1] == "audio/ogg"
    assert ("boleto.pdf", "application/pdf") in names


def test_media_download_failure_is_retried_then_kept_without_the_file(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    from atende.connectors.whatsapp.receive import MAX_ATTEMPTS, process_event

    media_id = wa.store_media(b"bytes", "image/png")
    wa.fail_next(503, times=MAX_ATTEMPTS, path_prefix="/" + media_id)
    wa.customer_sends(CUSTOMER, kind="image", content={"id": media_id, "caption": "nota"})
    webhooks.flush()
    event = InboundEvent.objects.get(channel=wa_channel)
    assert event.status == InboundStatus.RECEIVED and "media download" in event.error
    assert not Message.objects.exists()
    for attempt in range(1, MAX_ATTEMPTS):  # the scheduled retries
        process_event(event.pk, attempt)
    [message] = entries(wa_channel)
    assert "nota" in message.text and "503" in message.text
    assert not Attachment.objects.exists()


def test_unreadable_body_is_kept_quarantined_with_a_clear_error(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    response = webhooks.post({"hello": "world"})
    assert response.status_code == 400 and response.json()["error"] == "invalid payload"
    event = InboundEvent.objects.get(channel=wa_channel)
    assert event.status == InboundStatus.QUARANTINED and "no messages" in event.error
    assert event.payload["body"] == '{"hello": "world"}'


def test_one_tenant_secret_cannot_feed_another_tenant_channel(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks, other_tenant: Any) -> None:
    form = channel_form(other_tenant)
    assert form.is_valid()
    other = save_channel(other_tenant.org, form).channel
    assert other.secrets["webhook_secret"] != wa_channel.secrets["webhook_secret"]
    body = wa.customer_sends(CUSTOMER, "Oi")
    response = Client(headers={"X-Atende-Webhook-Token": wa_channel.secrets["webhook_secret"]}
                      ).post(f"/whatsapp/{other.pk}/webhook", data=body,
                             content_type="application/json")
    assert response.status_code == 401
    assert not InboundEvent.objects.filter(channel=other).exists()
    assert not Message.objects.filter(organization=other_tenant.org).exists()


def test_acknowledgement_costs_a_fixed_number_of_queries(
        wa: FakeDialog360, wa_channel: Channel, django_assert_max_num_queries: Any) -> None:
    for n in range(5):
        wa.customer_sends(CUSTOMER, f"lote {n}")
    # Five messages in one body: the same statements as one (no per-event query).
    bodies = wa.outbox
    merged = bodies[0]
    merged["entry"][0]["changes"][0]["value"]["messages"] = [
        b["entry"][0]["changes"][0]["value"]["messages"][0] for b in bodies]
    client = Client(headers=wa.webhook["headers"])
    with django_assert_max_num_queries(5):
        response = client.post(f"/whatsapp/{wa_channel.pk}/webhook", data=merged,
                               content_type="application/json")
    assert response.status_code == 200 and response.json()["events"] == 5
    assert InboundEvent.objects.filter(channel=wa_channel).count() == 5


def test_too_large_media_still_leaves_the_entry(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    media_id = wa.store_media(b"x" * (1024 * 1024 + 1), "video/mp4")
    wa.customer_sends(CUSTOMER, kind="video", content={"id": media_id, "caption": "vídeo"})
    webhooks.flush()
    [message] = entries(wa_channel)
    assert "vídeo" in message.text and "1 MB" in message.text
    assert not Attachment.objects.exists()
    assert InboundEvent.objects.get(channel=wa_channel).status == InboundStatus.PROCESSED


def test_deep_webhook_body_is_quarantined_through_the_django_view(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    response = webhooks.post(DEEP_BODY.decode())
    assert response.status_code == 400 and response.json()["error"] == "invalid payload"
    assert_deep_body_quarantined(wa_channel, response.json()["event"])


def assert_deep_body_quarantined(channel: Channel, event_id: int) -> None:
    event = InboundEvent.objects.get(pk=event_id, channel=channel)
    assert event.status == InboundStatus.QUARANTINED
    assert event.error.startswith("unreadable: TooDeep:")
    with translation.override("en"):
        assert "could not be read" in str(explain(event.error))
    assert event.payload["body"] == DEEP_BODY[:100_000].decode()
