"""Answers out through the Send API against the fake: text in pieces of 1000 bytes, files
uploaded then sent by attachment id, the 24-hour window and the HUMAN_AGENT tag's 7 days
on the fake's clock, 429/5xx retried, the window-closed state on the agent's screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from atende.channels.models import Channel
from atende.tickets.models import DeliveryStatus, Direction, Message, Ticket
from atende.tickets.services.sending import send_queued_message
from tests.connectors.meta_messaging.conftest import Deliveries
from tests.fakes.meta_graph import CUSTOMER, FakeMetaGraph

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries) -> Ticket:
    graph.customer_sends("Oi, preciso de ajuda")
    deliveries.flush(ig_channel)
    return Ticket.objects.get(channel=ig_channel)


def queued(admin_client: Client, ticket: Ticket, text: str, **files: Any) -> Message:
    answer = admin_client.post(f"/tickets/{ticket.pk}/reply/", {"text": text, **files})
    assert answer.status_code in (200, 302), answer.content[:500]
    return Message.objects.filter(ticket=ticket).order_by("-pk").first()  # type: ignore[return-value]


def age_customer_message(ticket: Ticket, graph: FakeMetaGraph, hours: float) -> None:
    """Move both clocks: the customer wrote `hours` ago."""
    Message.objects.filter(ticket=ticket, direction=Direction.INBOUND).update(
        created_at=timezone.now() - timedelta(hours=hours))
    graph.advance(hours * 3600)


def test_a_text_goes_out_as_a_response(ticket: Ticket, graph: FakeMetaGraph,
                                       admin_client: Client) -> None:
    message = queued(admin_client, ticket, "Olá! Já estamos verificando.")
    assert send_queued_message(message.pk).ok  # type: ignore[union-attr]
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    [sent] = graph.sent
    assert sent["recipient"] == {"id": CUSTOMER}
    assert sent["message"] == {"text": "Olá! Já estamos verificando."}
    assert sent["messaging_type"] == "RESPONSE" and "tag" not in sent
    assert message.external_id == sent["message_id"]


def test_a_long_text_goes_in_pieces_of_at_most_1000_bytes(
        ticket: Ticket, graph: FakeMetaGraph, admin_client: Client) -> None:
    text = "ação " * 300  # 2,100 bytes of UTF-8
    assert send_queued_message(queued(admin_client, ticket, text).pk).ok  # type: ignore[union-attr]
    pieces = [s["message"]["text"] for s in graph.sent]
    assert len(pieces) == 3 and "".join(pieces) == text.strip()
    assert all(len(p.encode()) <= 1000 for p in pieces)
    assert all(p.endswith("ação ") for p in pieces[:-1])  # cut between words


def test_a_file_is_uploaded_then_sent_by_its_attachment_id(
        ticket: Ticket, graph: FakeMetaGraph, admin_client: Client) -> None:
    upload = SimpleUploadedFile("nota.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    message = queued(admin_client, ticket, "Segue a nota.", attachments=upload)
    assert send_queued_message(message.pk).ok  # type: ignore[union-attr]
    [uploaded] = graph.uploads
    assert uploaded["filedata"][1] == b"\x89PNG\r\n\x1a\n"
    assert uploaded["platform"] == "instagram"
    media, text = graph.sent
    assert media["message"] == {"attachment": {"type": "image", "payload": {
        "attachment_id": uploaded["attachment_id"]}}}
    assert text["message"] == {"text": "Segue a nota."}


def test_after_24_hours_the_answer_fails_with_the_window_closed(
        ticket: Ticket, graph: FakeMetaGraph, admin_client: Client) -> None:
    age_customer_message(ticket, graph, 25)
    message = queued(admin_client, ticket, "Ainda precisa de ajuda?")
    result = send_queued_message(message.pk)
    assert result is not None and not result.ok and not result.retryable
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "24-hour window is closed" in message.failure_reason
    assert graph.sent == []


def test_with_the_human_agent_feature_an_agent_answers_for_7_days(
        ticket: Ticket, ig_channel: Channel, graph: FakeMetaGraph,
        admin_client: Client) -> None:
    ig_channel.settings = {**ig_channel.settings, "human_agent": True}
    ig_channel.save()
    graph.human_agent = True
    age_customer_message(ticket, graph, 3 * 24)
    assert send_queued_message(queued(admin_client, ticket, "Seguem as informações.").pk).ok  # type: ignore[union-attr]
    [sent] = graph.sent
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    age_customer_message(ticket, graph, 8 * 24 - 3 * 24)
    result = send_queued_message(queued(admin_client, ticket, "Mais uma coisa").pk)
    assert result is not None and not result.ok and "7 days" in result.error


def test_meta_refusing_the_window_is_shown_as_closed(
        ticket: Ticket, graph: FakeMetaGraph, admin_client: Client) -> None:
    """Meta's clock decides in the end: its 2018278 refusal reads as the closed window."""
    graph.advance(25 * 3600)  # Meta's clock only
    result = send_queued_message(queued(admin_client, ticket, "Olá").pk)
    assert result is not None and not result.ok and "window is closed" in result.error


@pytest.mark.parametrize(("status", "code"), [(429, None), (500, None), (400, 613)])
def test_throttling_and_server_errors_are_retried(
        ticket: Ticket, graph: FakeMetaGraph, admin_client: Client, status: int,
        code: int | None) -> None:
    message = queued(admin_client, ticket, "Resposta")
    graph.fail_next(status, code=code, path="messages")
    result = send_queued_message(message.pk)
    assert result is not None and not result.ok and result.retryable
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now())
    assert send_queued_message(message.pk).ok  # type: ignore[union-attr]
    assert len(graph.sent) == 1


def test_an_invalid_token_fails_with_a_clear_reason(
        ticket: Ticket, graph: FakeMetaGraph, admin_client: Client) -> None:
    graph.page_token = "revoked"
    result = send_queued_message(queued(admin_client, ticket, "Olá").pk)
    assert result is not None and not result.ok and not result.retryable
    assert "connect the channel again" in result.error


def test_the_agent_screen_says_when_the_window_is_closed(
        ticket: Ticket, graph: FakeMetaGraph, admin_client: Client) -> None:
    url = reverse("workspace:ticket-meta-window", args=[ticket.pk])
    assert admin_client.get(reverse("workspace:ticket", args=[ticket.pk])).status_code == 200
    open_panel = admin_client.get(url).content.decode()
    assert 'data-window="open"' in open_panel and "23 hours left" in open_panel
    age_customer_message(ticket, graph, 30)
    closed = admin_client.get(url).content.decode()
    assert 'data-window="closed"' in closed and "24-hour window is closed" in closed


def test_another_organisation_cannot_see_the_window_panel(
        ticket: Ticket, other_tenant: Any) -> None:
    stranger = Client()
    stranger.force_login(other_tenant.admin)
    url = reverse("workspace:ticket-meta-window", args=[ticket.pk])
    assert stranger.get(url).status_code == 404
