"""Agents' answers on WhatsApp (WA-3) and the statuses that come back; the 24-hour window
refusal (WA-5) before and after the provider."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from atende.channels.models import Channel
from atende.tenancy.models import Membership
from atende.tickets.models import DeliveryStatus, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import NewAttachment, post_message
from atende.tickets.services.sending import send_queued_message
from tests.connectors.whatsapp.conftest import CUSTOMER, CUSTOMER_OLD_FORM, Webhooks
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db
HOUR = 3600


@pytest.fixture
def ticket(wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> Ticket:
    wa.customer_sends(CUSTOMER_OLD_FORM, "Quero segunda via do boleto", at=wa.now - 60)
    assert webhooks.flush() == [200]
    return Ticket.objects.get()


@pytest.fixture
def reply(ticket: Ticket, django_capture_on_commit_callbacks: Any) -> Callable[..., Message]:
    agent = agent_of(ticket)

    def send(text: str = "Segue o boleto.", **kwargs: Any) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message = post_message(ticket, agent, text=text, **kwargs)
        message.refresh_from_db()
        return message

    return send


def agent_of(ticket: Ticket) -> Actor:
    return Actor(user=Membership.objects.get(organization=ticket.organization).user)


def make_due(message: Message) -> None:
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now() - timedelta(seconds=1))


def test_text_answer_goes_out_and_statuses_move_forward_only(
        wa: FakeDialog360, webhooks: Webhooks, reply: Callable[..., Message]) -> None:
    message = reply()
    assert message.delivery_status == DeliveryStatus.SENT
    [sent] = wa.sent
    assert sent == {"messaging_product": "whatsapp", "recipient_type": "individual",
                    "to": CUSTOMER, "type": "text",
                    "text": {"body": "Segue o boleto.", "preview_url": False}}
    assert message.external_id.startswith("wamid.OUT")

    webhooks.flush()  # sent, delivered
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED and message.delivered_at
    wa.status(message.external_id, "read")
    wa.status(message.external_id, "delivered")  # late: must not undo "read"
    webhooks.flush()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.READ and message.read_at


def test_status_arriving_twice_or_out_of_order_is_harmless(
        wa: FakeDialog360, webhooks: Webhooks, reply: Callable[..., Message]) -> None:
    message = reply()
    wa.outbox.clear()
    wa.status(message.external_id, "read")
    wa.status(message.external_id, "sent")
    body = wa.outbox[0]
    webhooks.flush(reverse=True)
    assert webhooks.post(body).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.READ


def test_image_with_caption_is_uploaded_then_sent(
        wa: FakeDialog360, reply: Callable[..., Message]) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    message = reply(text="Foto do produto",
                    attachments=[NewAttachment("produto.png", "image/png", png)])
    assert message.delivery_status == DeliveryStatus.SENT
    [sent] = wa.sent
    assert sent["type"] == "image" and sent["image"]["caption"] == "Foto do produto"
    assert wa.media[sent["image"]["id"]][:2] == (png, "image/png")


def test_document_gets_its_filename_and_audio_text_goes_separately(
        wa: FakeDialog360, reply: Callable[..., Message]) -> None:
    reply(text="Áudio e boleto", attachments=[
        NewAttachment("recado.ogg", "audio/ogg", b"OggS"),
        NewAttachment("boleto.pdf", "application/pdf", b"%PDF")])
    kinds = [(s["type"], s[s["type"]].get("caption"), s[s["type"]].get("filename"))
             for s in wa.sent]
    assert kinds == [("text", None, None), ("audio", None, None),
                     ("document", None, "boleto.pdf")]


@pytest.mark.parametrize("status", [503, 429])
def test_server_errors_and_rate_limits_are_retried(
        wa: FakeDialog360, reply: Callable[..., Message], status: int) -> None:
    wa.fail_next(status, path_prefix="/messages")
    message = reply()
    assert message.delivery_status == DeliveryStatus.QUEUED and message.send_attempts == 1
    assert str(status) in message.failure_reason
    make_due(message)
    send_queued_message(message.pk)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT and message.send_attempts == 2


def test_client_error_fails_at_once_with_the_provider_code_and_text(
        wa: FakeDialog360, reply: Callable[..., Message]) -> None:
    wa.fail_next(400, {"error": {"message": "(#131026) Message undeliverable", "code": 131026,
                                 "error_data": {"details": "not on WhatsApp"}}},
                 path_prefix="/messages")
    message = reply()
    assert message.delivery_status == DeliveryStatus.FAILED and message.send_attempts == 1
    assert "131026" in message.failure_reason and "not on WhatsApp" in message.failure_reason


def test_free_text_outside_the_window_is_refused_before_sending(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks,
        django_capture_on_commit_callbacks: Any) -> None:
    wa.customer_sends(CUSTOMER, "Oi", at=wa.now - 25 * HOUR)
    webhooks.flush()
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        message = post_message(ticket, agent_of(ticket), text="Ainda precisa de ajuda?")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "janela de 24 horas está fechada" in message.failure_reason  # pt-BR organisation
    assert wa.sent == []


def test_provider_window_failure_131047_is_shown_as_window_closed(
        wa: FakeDialog360, webhooks: Webhooks, reply: Callable[..., Message]) -> None:
    wa.advance(25 * HOUR)  # the provider's clock says the window closed
    message = reply()
    assert message.delivery_status == DeliveryStatus.SENT
    webhooks.flush()
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.failure_reason.startswith("Janela fechada") and "131047" in \
        message.failure_reason


def test_synchronous_470_is_shown_as_window_closed(
        wa: FakeDialog360, reply: Callable[..., Message]) -> None:
    wa.fail_next(400, {"errors": [{"code": 470, "title": "Outside the support window"}]},
                 path_prefix="/messages")
    message = reply()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.failure_reason.startswith("Janela fechada") and "470" in \
        message.failure_reason


def test_wrong_api_key_is_a_clear_permanent_failure(
        wa: FakeDialog360, wa_channel: Channel, reply: Callable[..., Message]) -> None:
    wa.api_key = "rotated"
    message = reply()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "401" in message.failure_reason and "Invalid api_key" in message.failure_reason
