"""An agent's answer to a Telegram ticket: text with sendMessage, files with sendPhoto /
sendDocument (multipart), 429's retry_after and 5xx retried by the kit's outbound
pipeline, a refusal shown on the timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from atende.channels.models import Channel
from atende.tickets.models import DeliveryStatus, Message, Ticket
from atende.tickets.services.sending import send_queued_message
from tests.conftest import Tenant
from tests.connectors.telegram.conftest import Updates
from tests.fakes.telegram import CUSTOMER_ID, FakeTelegram

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> Ticket:
    tg.customer_sends("Oi, preciso de ajuda")
    updates.flush()
    return Ticket.objects.get(channel=tg_channel)


def answer(admin_client: Any, ticket: Ticket, text: str, **files: Any) -> Message:
    response = admin_client.post(f"/tickets/{ticket.pk}/reply/", {"text": text, **files})
    assert response.status_code in (200, 302), response.content[:500]
    return Message.objects.filter(ticket=ticket).order_by("-pk").first()


def test_a_text_answer_goes_out_with_send_message(
        ticket: Ticket, tg: FakeTelegram, tenant: Tenant,
        django_capture_on_commit_callbacks: Any, admin_client: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = answer(admin_client, ticket, "Olá! Já verifico.")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT, message.failure_reason
    [sent] = tg.sent
    assert sent == {"method": "sendMessage", "chat_id": str(CUSTOMER_ID),
                    "text": "Olá! Já verifico."}
    assert message.external_id


def test_a_file_goes_out_as_a_document_with_the_text_as_caption(
        ticket: Ticket, tg: FakeTelegram, django_capture_on_commit_callbacks: Any,
        admin_client: Any) -> None:
    upload = SimpleUploadedFile("nota.pdf", b"%PDF-1.4 nota", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        message = answer(admin_client, ticket, "Segue a nota.", attachments=upload)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT, message.failure_reason
    [sent] = tg.sent
    assert (sent["method"], sent["filename"], sent["data"], sent["caption"]) == (
        "sendDocument", "nota.pdf", b"%PDF-1.4 nota", "Segue a nota.")


def test_a_picture_goes_out_as_a_photo(ticket: Ticket, tg: FakeTelegram,
                                       django_capture_on_commit_callbacks: Any,
                                       admin_client: Any) -> None:
    upload = SimpleUploadedFile("foto.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        answer(admin_client, ticket, "", attachments=upload)
    assert [s["method"] for s in tg.sent] == ["sendPhoto"]


def _queued(ticket: Ticket, admin_client: Any) -> Message:
    # Without running the on-commit send: the test drives the attempts itself.
    return answer(admin_client, ticket, "Resposta")


def test_429_waits_telegrams_retry_after_then_sends(ticket: Ticket, tg: FakeTelegram,
                                                    admin_client: Any) -> None:
    message = _queued(ticket, admin_client)
    tg.fail_next(429, retry_after=120, method="sendMessage")
    before = timezone.now()
    result = send_queued_message(message.pk)
    assert result is not None and not result.ok and result.retryable
    assert result.retry_after == 120
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert message.send_after is not None
    assert message.send_after >= before + timedelta(seconds=119)  # not the 10 s backoff
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now())
    assert send_queued_message(message.pk).ok  # type: ignore[union-attr]
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert len(tg.sent) == 1


def test_a_server_error_is_retried(ticket: Ticket, tg: FakeTelegram,
                                   admin_client: Any) -> None:
    message = _queued(ticket, admin_client)
    tg.fail_next(502)
    result = send_queued_message(message.pk)
    assert result is not None and result.retryable and not result.ok
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now())
    assert send_queued_message(message.pk).ok  # type: ignore[union-attr]


def test_a_refusal_fails_the_message_with_telegrams_reason(
        ticket: Ticket, tg: FakeTelegram, admin_client: Any) -> None:
    message = _queued(ticket, admin_client)
    tg.fail_next(403, description="Forbidden: bot was blocked by the user")
    result = send_queued_message(message.pk)
    assert result is not None and not result.retryable
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "bot was blocked by the user" in message.failure_reason
