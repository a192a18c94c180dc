"""Agents' replies on an API channel: signed JSON POSTs to the integrator's webhook URL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from atende.connectors.api.channels import update_channel
from atende.tickets.models import DeliveryStatus, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import NewAttachment, post_message
from atende.tickets.services.sending import send_queued_message
from atende.webhooks.signing import verify
from tests.connectors.conftest import ApiChannel
from tests.fakes.http_receiver import HttpReceiver, ReceivedRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(api_channel: ApiChannel, django_capture_on_commit_callbacks: Any
          ) -> Callable[..., Message]:
    """An agent's reply on a ticket the channel opened, sent as the task would after commit."""
    opened = api_channel.post(message_id="in-1", conversation_id="conv-77")
    assert opened.status_code == 201, opened.content
    ticket = Ticket.objects.get(pk=opened.json()["ticket_id"])
    agent = Actor(user=api_channel.tenant.admin)

    def send(text: str = "Seu pedido sai hoje.", **kwargs: Any) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message = post_message(ticket, agent, text=text, **kwargs)
        message.refresh_from_db()
        return message

    return send


def assert_signed(request: ReceivedRequest, secret: str) -> None:
    assert verify(secret, request.body, request.header("X-Atende-Signature"),
                  request.header("X-Atende-Timestamp"))


def make_due(message: Message) -> None:
    """Let the scheduled retry run now instead of after its backoff."""
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now() - timedelta(seconds=1))


def test_reply_is_posted_signed_and_becomes_sent(
        api_channel: ApiChannel, receiver: HttpReceiver, reply: Callable[..., Message]) -> None:
    receiver.respond_with((200, {"id": "erp-991"}))
    message = reply(html="<p>Seu pedido <b>sai hoje</b>.</p><script>x()</script>")

    assert (message.delivery_status, message.external_id) == (DeliveryStatus.SENT, "out:erp-991")
    assert message.sent_at is not None and message.send_attempts == 1
    [request] = receiver.requests
    assert request.method == "POST" and request.path == "/hook"
    assert_signed(request, api_channel.signing_secret)
    assert not verify("whsec_wrong", request.body, request.header("X-Atende-Signature"),
                      request.header("X-Atende-Timestamp"))
    assert request.header("X-Atende-Event") == "message.outbound"
    assert request.header("X-Atende-Delivery") == f"message-{message.pk}"
    body = request.json()
    ticket = message.ticket
    assert body["event"] == "message.outbound"
    assert body["message_id"] == message.pk
    assert body["conversation_id"] == "conv-77"
    assert body["ticket"] == {"id": ticket.pk, "protocol": ticket.protocol,
                              "subject": ticket.subject}
    assert body["contact"]["id"] == "cust-42" and body["contact"]["name"] == "Maria Souza"
    assert body["text"] == "Seu pedido sai hoje."
    assert "<b>sai hoje</b>" in body["html"] and "<script>" not in body["html"]
    assert body["author"] == {"name": str(api_channel.tenant.admin)}
    assert body["attachments"] == [] and body["created_at"]


def test_server_error_is_retried_and_the_retry_sends(
        api_channel: ApiChannel, receiver: HttpReceiver, reply: Callable[..., Message]) -> None:
    receiver.respond_with(500, 200)
    message = reply()

    # The retry is scheduled with backoff; in immediate mode its task runs at once, finds the
    # attempt not yet due and leaves it: one request so far, the message still queued.
    assert len(receiver.requests) == 1
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert message.send_attempts == 1 and message.failure_reason.startswith("HTTP 500")
    assert message.send_after is not None and message.send_after > timezone.now()
    assert send_queued_message(message.pk) is None  # not due yet: nothing sent

    make_due(message)
    result = send_queued_message(message.pk)

    assert result is not None and result.ok
    message.refresh_from_db()
    assert (message.delivery_status, message.send_attempts) == (DeliveryStatus.SENT, 2)
    first, second = receiver.requests
    assert first.header("X-Atende-Delivery") == second.header("X-Atende-Delivery")
    assert_signed(second, api_channel.signing_secret)


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_timeouts_rate_limits_and_server_errors_are_retryable(
        receiver: HttpReceiver, reply: Callable[..., Message], status: int) -> None:
    receiver.respond_with(status)
    message = reply()
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert message.failure_reason.startswith(f"HTTP {status}")


def test_client_error_fails_the_message_with_its_status_and_never_the_body(
        receiver: HttpReceiver, reply: Callable[..., Message]) -> None:
    receiver.respond_with((400, {"error": "unknown conversation"}))
    message = reply()

    assert message.delivery_status == DeliveryStatus.FAILED
    # The body of the receiver's answer is never read back (it could be an internal page).
    assert message.failure_reason == "HTTP 400 Bad Request"
    assert len(receiver.requests) == 1


def test_unreachable_receiver_is_retryable(
        receiver: HttpReceiver, reply: Callable[..., Message]) -> None:
    receiver.stop()
    message = reply()
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert message.failure_reason.startswith("ConnectError")


def test_channel_without_webhook_url_fails_with_a_clear_reason(
        api_channel: ApiChannel, receiver: HttpReceiver, reply: Callable[..., Message]) -> None:
    update_channel(api_channel.channel, {"webhook_url": ""})
    message = reply()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "webhook URL" in message.failure_reason
    assert receiver.requests == []


def test_same_id_answered_twice_does_not_break_sending(
        receiver: HttpReceiver, reply: Callable[..., Message]) -> None:
    receiver.respond_with((200, {"id": "same"}), (200, {"id": "same"}))
    first, second = reply("one"), reply("two")
    assert (first.delivery_status, first.external_id) == (DeliveryStatus.SENT, "out:same")
    assert (second.delivery_status, second.external_id) == (DeliveryStatus.SENT, "")


def test_reply_attachments_are_downloadable_with_the_channel_key(
        api_channel: ApiChannel, receiver: HttpReceiver, reply: Callable[..., Message],
        other_tenant: Any) -> None:
    content = b"segunda via do boleto"
    reply(attachments=[NewAttachment("boleto.pdf", "application/pdf", content)])

    [attachment] = receiver.requests[0].json()["attachments"]
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
        "boleto.pdf", "application/pdf", len(content))
    assert attachment["url"].startswith(settings.PUBLIC_URL + "/api/v1/channels/")
    path = attachment["url"].removeprefix(settings.PUBLIC_URL)
    download = api_channel.client.get(path)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert other_tenant.client.get(path).status_code == 404


def test_connection_test_sends_a_signed_ping(
        api_channel: ApiChannel, receiver: HttpReceiver) -> None:
    url = f"/api/v1/channels/{api_channel.channel.pk}/test"
    ok = api_channel.tenant.client.post(url).json()
    receiver.respond_with(503)
    failed = api_channel.tenant.client.post(url).json()

    assert ok["ok"] is True and "200" in ok["message"]
    assert failed == {"ok": False, "message": failed["message"], "step": "webhook"}
    assert failed["message"].startswith("HTTP 503")
    ping = receiver.requests[0]
    assert ping.json()["event"] == "ping" and ping.header("X-Atende-Event") == "ping"
    assert_signed(ping, api_channel.signing_secret)
