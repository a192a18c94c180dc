"""An external system posting customers' messages into its API channel."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import InboundEvent, InboundStatus
from atende.connectors.api.channels import create_api_channel
from atende.contacts.models import ContactIdentity
from atende.tickets.models import Attachment, Message, Ticket
from tests.conftest import ApiClient
from tests.connectors.conftest import ApiChannel, customer_message

pytestmark = pytest.mark.django_db


def accepted(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    return body


def test_message_opens_a_ticket_and_the_same_conversation_threads_into_it(
        api_channel: ApiChannel) -> None:
    first = accepted(api_channel.post(message_id="m-1", subject="Pedido 123"))
    second = accepted(api_channel.post(message_id="m-2"))
    other = accepted(api_channel.post(message_id="m-3", conversation_id="conv-2"))

    assert first["created_ticket"] is True and first["duplicate"] is False
    assert first["status"] == "processed" and first["external_id"] == "m-1"
    assert second["created_ticket"] is False
    assert second["ticket_id"] == first["ticket_id"]
    assert second["protocol"] == first["protocol"] and first["protocol"].startswith("TKT-")
    assert other["ticket_id"] != first["ticket_id"]
    ticket = Ticket.objects.get(pk=first["ticket_id"])
    assert (ticket.origin, ticket.channel_id, ticket.subject) == (
        "api", api_channel.channel.pk, "Pedido 123")
    assert ticket.service_id == api_channel.tenant.service.pk  # the channel's service
    assert list(ticket.messages.values_list("external_id", flat=True)) == ["m-1", "m-2"]
    assert InboundEvent.objects.filter(channel=api_channel.channel,
                                       status=InboundStatus.PROCESSED).count() == 3


def test_contact_is_known_by_external_id_with_email_and_phone(api_channel: ApiChannel) -> None:
    body = accepted(api_channel.post())
    contact = Ticket.objects.get(pk=body["ticket_id"]).contact
    identities = set(ContactIdentity.objects.filter(contact=contact)
                     .values_list("kind", "value"))
    assert identities == {("external", f"{api_channel.channel.pk}:cust-42"),
                          ("email", "maria@example.com"), ("phone", "+5511987654321")}
    assert contact.name == "Maria Souza"


def test_invalid_email_and_phone_are_dropped_not_refused(api_channel: ApiChannel) -> None:
    body = accepted(api_channel.post(contact={"id": "c-9", "email": "no-at-sign", "phone": "12"}))
    contact = Ticket.objects.get(pk=body["ticket_id"]).contact
    assert list(contact.identities.values_list("kind", flat=True)) == ["external"]


def test_repeated_message_id_returns_the_same_ids_and_stores_one_message(
        api_channel: ApiChannel) -> None:
    payload = customer_message(message_id="dup-1")
    first = accepted(api_channel.client.post(api_channel.messages_url, payload))
    again = accepted(api_channel.client.post(api_channel.messages_url, payload), status=200)

    assert (again["ticket_id"], again["message_id"]) == (first["ticket_id"], first["message_id"])
    assert again["duplicate"] is True and again["status"] == "duplicate"
    assert again["created_ticket"] is False
    assert Message.objects.filter(external_id="dup-1").count() == 1
    events = InboundEvent.objects.filter(channel=api_channel.channel, provider_id="dup-1")
    assert [(e.status, e.message_id) for e in events] == [
        (InboundStatus.PROCESSED, first["message_id"])]


def test_out_of_order_sent_at_keeps_timeline_order(api_channel: ApiChannel) -> None:
    base = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    later = accepted(api_channel.post(message_id="late", sent_at=(base + timedelta(minutes=5))
                                      .isoformat()))
    accepted(api_channel.post(message_id="early", sent_at=base.isoformat()))

    detail = api_channel.tenant.client.get(f"/api/v1/tickets/{later['ticket_id']}").json()
    order = [i["message"]["external_id"] for i in detail["timeline"] if i["type"] == "message"]
    assert order == ["early", "late"]


def test_sent_at_in_the_future_is_taken_as_now(api_channel: ApiChannel) -> None:
    future = datetime.now(UTC) + timedelta(days=2)
    body = accepted(api_channel.post(sent_at=future.isoformat()))
    assert Message.objects.get(pk=body["message_id"]).created_at <= datetime.now(UTC)


def test_organisation_key_of_the_same_tenant_may_post(api_channel: ApiChannel) -> None:
    response = api_channel.tenant.client.post(api_channel.messages_url, customer_message())
    accepted(response)


def test_x_api_key_header_is_accepted(api_channel: ApiChannel) -> None:
    client = Client(HTTP_X_API_KEY=api_channel.raw_key)
    response = client.post(api_channel.messages_url, customer_message(),
                           content_type="application/json")
    accepted(response)


def test_another_tenants_key_gets_404_and_nothing_is_stored(
        api_channel: ApiChannel, other_tenant: Any) -> None:
    response = other_tenant.client.post(api_channel.messages_url, customer_message())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "ERP" not in response.content.decode()
    assert not InboundEvent.objects.exists()


def test_another_channels_key_gets_404(api_channel: ApiChannel) -> None:
    _other, other_key, _secret = create_api_channel(api_channel.tenant.org, name="CRM")
    response = ApiClient(other_key).post(api_channel.messages_url, customer_message())
    assert response.status_code == 404
    assert not InboundEvent.objects.exists()


def test_channel_key_cannot_use_organisation_endpoints(api_channel: ApiChannel) -> None:
    assert api_channel.client.get("/api/v1/tickets").status_code == 403
    assert api_channel.client.get("/api/v1/channels").status_code == 403


def test_disabled_channel_refuses_messages(api_channel: ApiChannel) -> None:
    api_channel.channel.is_active = False
    api_channel.channel.save()
    response = api_channel.post()
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "channel_inactive"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"message_id": ""}, "message_id"),
        ({"conversation_id": None}, "conversation_id"),
        ({"contact": {"name": "Sem id"}}, "contact.id"),
        ({"text": "   "}, "text"),
        ({"sent_at": "2026-11-02T10:00:00"}, "sent_at"),
        ({"sent_at": "yesterday"}, "sent_at"),
        ({"attachments": [{"filename": "a.txt"}]}, "attachments.0.content_base64"),
    ],
)
def test_invalid_payload_is_400_naming_the_field(
        api_channel: ApiChannel, overrides: dict[str, Any], field: str) -> None:
    response = api_channel.post(**overrides)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field
    assert not InboundEvent.objects.exists()


def test_missing_text_is_400(api_channel: ApiChannel) -> None:
    payload = customer_message()
    del payload["text"]
    response = api_channel.client.post(api_channel.messages_url, payload)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "text"


def test_attachments_are_stored_on_the_message(api_channel: ApiChannel) -> None:
    content = b"%PDF-1.4 nota fiscal"
    body = accepted(api_channel.post(attachments=[{
        "filename": "../../nota.pdf", "content_type": "application/pdf",
        "content_base64": base64.b64encode(content).decode(),
    }]))
    attachment = Attachment.objects.get(message_id=body["message_id"])
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "nota.pdf", "application/pdf", len(content))
    assert attachment.file.read() == content


def test_bad_base64_is_400_naming_the_field(api_channel: ApiChannel) -> None:
    response = api_channel.post(attachments=[
        {"filename": "ok.txt", "content_base64": base64.b64encode(b"ok").decode()},
        {"filename": "bad.txt", "content_base64": "not*base64!"},
    ])
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "attachments.1.content_base64"
    assert not InboundEvent.objects.exists() and not Message.objects.exists()


def test_attachment_over_the_limit_is_413(api_channel: ApiChannel, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024
    response = api_channel.post(attachments=[
        {"filename": "big.bin", "content_base64": base64.b64encode(b"x" * 1025).decode()}])
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "attachments.0.content_base64"
    exactly = api_channel.post(attachments=[
        {"filename": "ok.bin", "content_base64": base64.b64encode(b"x" * 1024).decode()}])
    assert exactly.status_code == 201


def test_failing_ingest_keeps_the_raw_event_quarantined_and_a_retry_processes_it(
        api_channel: ApiChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_ingest(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr("atende.tickets.services.inbound_events.ingest_many", broken_ingest)
    payload = customer_message(message_id="fails-once")
    response = api_channel.client.post(api_channel.messages_url, payload)

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "ingest_failed"
    event = InboundEvent.objects.get(provider_id="fails-once")
    assert event.status == InboundStatus.QUARANTINED
    assert "RuntimeError: database went away" in event.error
    assert event.payload["text"] == payload["text"]
    assert not Message.objects.exists()

    monkeypatch.undo()
    retried = accepted(api_channel.client.post(api_channel.messages_url, payload))
    event.refresh_from_db()
    assert (event.status, event.error, event.message_id) == (
        InboundStatus.PROCESSED, "", retried["message_id"])
