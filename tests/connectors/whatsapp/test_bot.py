"""Return to bot (WA-7): a new conversation goes to the bot (signed forwards to a fake bot
endpoint), the bot answers through the API, and only its hand-off puts the ticket in the
queue, with the conversation so far, and runs auto-assignment."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.whatsapp.models import Bot, BotConversation, BotEntry, BotState
from atende.tenancy.models import Membership, Presence
from atende.tickets.models import Direction, Status, Ticket
from atende.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import BOT_SECRET as SECRET
from tests.connectors.whatsapp.conftest import (
    CUSTOMER,
    CUSTOMER_OLD_FORM,
    Webhooks,
    bot_channel_for,
    channel_form,
)
from tests.fakes.dialog360 import FakeDialog360
from tests.fakes.http_receiver import HttpReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot_channel(tenant: Tenant, wa: FakeDialog360, bot_endpoint: HttpReceiver,
                admin_client: Client) -> Channel:
    return bot_channel_for(tenant, admin_client, bot_endpoint)


def forwards(endpoint: HttpReceiver) -> list[dict[str, Any]]:
    bodies = []
    for request in endpoint.requests:
        assert verify(SECRET, request.body, request.header(SIGNATURE_HEADER),
                      request.header(TIMESTAMP_HEADER))
        assert request.header("X-Atende-Event") == "whatsapp.message"
        bodies.append(request.json())
    return bodies


def test_conversation_is_with_the_bot_until_it_hands_off(
        tenant: Tenant, wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks,
        bot_endpoint: HttpReceiver, django_capture_on_commit_callbacks: Any) -> None:
    tenant.service.auto_assign = True
    tenant.service.save()
    agent = Membership.objects.get(organization=tenant.org)
    agent.services.add(tenant.service)
    Membership.objects.filter(pk=agent.pk).update(presence=Presence.ONLINE)

    first = wa.customer_sends(CUSTOMER, "Oi", name="Maria Souza")
    wa.customer_sends(CUSTOMER_OLD_FORM, "Quero a segunda via do boleto")
    assert webhooks.flush() == [200, 200]
    assert webhooks.post(first).status_code == 200  # a redelivery is not forwarded again
    assert not Ticket.objects.exists()  # nothing in the queue while the bot has it
    bodies = forwards(bot_endpoint)
    assert [b["message"]["text"] for b in bodies] == ["Oi", "Quero a segunda via do boleto"]
    conversation = BotConversation.objects.get()
    assert {b["conversation_id"] for b in bodies} == {conversation.pk}
    assert bodies[0]["contact"] == {"number": "+5511987654321", "name": "Maria Souza"}
    assert bodies[0]["bot_id"] == "triagem"

    base = f"/api/v1/whatsapp/conversations/{conversation.pk}"
    answer = tenant.client.post(f"{base}/messages", {"text": "Vou chamar um atendente."})
    assert answer.status_code == 201
    assert [b["text"]["body"] for b in wa.sent] == ["Vou chamar um atendente."]
    assert wa.sent[0]["to"] == CUSTOMER
    assert not Ticket.objects.exists()
    statuses = webhooks.flush()  # sent/delivered of the bot's answer: nothing to wait for
    assert statuses and set(statuses) == {200}
    assert InboundEvent.objects.filter(error="an answer of the bot").count() == len(statuses)
    assert not InboundEvent.objects.filter(status=InboundStatus.RECEIVED).exists()

    with django_capture_on_commit_callbacks(execute=True):
        handed = tenant.client.post(f"{base}/handoff", {"note": "Cliente quer boleto."})
    assert handed.status_code == 200 and handed.json()["handed_off"] is True
    ticket = Ticket.objects.get()
    assert handed.json()["ticket_id"] == ticket.pk
    assert ticket.status in (Status.NEW, Status.OPEN)
    assert ticket.assignee_id == agent.user_id  # auto-assignment ran at hand-off
    timeline = [(m.direction, m.text) for m in ticket.messages.order_by("created_at", "id")]
    assert timeline[:3] == [(Direction.INBOUND, "Oi"),
                            (Direction.INBOUND, "Quero a segunda via do boleto"),
                            (Direction.OUTBOUND, "Vou chamar um atendente.")]
    assert timeline[3][0] == Direction.SYSTEM and "Triagem" in timeline[3][1] \
        and "Cliente quer boleto." in timeline[3][1]

    again = tenant.client.post(f"{base}/handoff", {})
    assert again.status_code == 200 and again.json() == {**handed.json(), "handed_off": False}
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 4
    refused = tenant.client.post(f"{base}/messages", {"text": "Ainda aqui?"})
    assert refused.status_code == 409

    wa.customer_sends(CUSTOMER, "Obrigada")  # now the ticket's, not the bot's
    webhooks.flush()
    assert ticket.messages.filter(direction=Direction.INBOUND).count() == 3
    assert len(bot_endpoint.requests) == 2


def test_another_tenant_cannot_answer_or_hand_off(
        wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks,
        other_tenant: Tenant) -> None:
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    conversation = BotConversation.objects.get()
    base = f"/api/v1/whatsapp/conversations/{conversation.pk}"
    assert other_tenant.client.post(f"{base}/handoff", {}).status_code == 404
    assert other_tenant.client.post(f"{base}/messages", {"text": "x"}).status_code == 404
    conversation.refresh_from_db()
    assert conversation.state == BotState.AT_BOT and not Ticket.objects.exists()
    assert wa.sent == []


def test_after_the_ticket_is_finished_the_customer_returns_to_the_bot(
        tenant: Tenant, wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks,
        bot_endpoint: HttpReceiver) -> None:
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    first = BotConversation.objects.get()
    tenant.client.post(f"/api/v1/whatsapp/conversations/{first.pk}/handoff", {})
    Ticket.objects.update(status=Status.RESOLVED)
    wa.customer_sends(CUSTOMER, "Voltei")
    webhooks.flush()
    second = BotConversation.objects.get(state=BotState.AT_BOT)
    assert second.pk != first.pk
    assert forwards(bot_endpoint)[-1]["message"]["text"] == "Voltei"
    assert Ticket.objects.get().status == Status.RESOLVED


def test_a_failed_forward_is_retried(
        wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks,
        bot_endpoint: HttpReceiver) -> None:
    from atende.connectors.whatsapp.bot import forward

    bot_endpoint.respond_with(503, 200)
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    entry = BotEntry.objects.get()
    assert entry.forwarded_at is None and entry.forward_error == "HTTP 503 Service Unavailable"
    assert forward(entry.pk, 1) is True  # the scheduled retry
    assert forward(entry.pk, 2) is False  # done: not sent twice
    assert len(bot_endpoint.requests) == 2
    entry.refresh_from_db()
    assert entry.forwarded_at is not None and entry.forward_error == ""


def test_bot_settings_keep_the_secret_and_stay_in_the_tenant(
        tenant: Tenant, other_tenant: Tenant, bot_channel: Channel,
        admin_client: Client) -> None:
    bot = Bot.objects.get()
    assert bot.secret == SECRET and SECRET not in bot.encrypted_secret
    page = admin_client.get("/settings/bots/").content.decode()
    assert "Triagem" in page and SECRET not in page
    edit = admin_client.post(f"/settings/bots/{bot.pk}/", {
        "bot_id": "triagem", "name": "Triagem 2", "webhook_url": bot.webhook_url})
    assert edit.status_code == 302
    bot.refresh_from_db()
    assert bot.name == "Triagem 2" and bot.secret == SECRET
    missing = admin_client.post("/settings/bots/new/", {
        "bot_id": "vendas", "name": "Vendas", "webhook_url": "https://bot.example.com/"})
    assert missing.status_code == 200 and not Bot.objects.filter(bot_id="vendas").exists()
    theirs = Bot(organization=other_tenant.org, bot_id="deles", name="Deles",
                 webhook_url="https://bot.example.com/")
    theirs.secret = SECRET
    theirs.save()
    assert admin_client.get(f"/settings/bots/{theirs.pk}/").status_code == 404
    unknown = channel_form(tenant, return_to_bot="on", bot_id="deles")
    assert not unknown.is_valid() and "bot_id" in unknown.errors


def test_an_unreachable_bot_hands_off_by_itself(
        wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks,
        bot_endpoint: HttpReceiver, django_capture_on_commit_callbacks: Any) -> None:
    from atende.connectors.whatsapp.bot import FORWARD_ATTEMPTS, forward

    bot_endpoint.respond_with(*[500] * FORWARD_ATTEMPTS)
    wa.customer_sends(CUSTOMER, "Oi, tem alguém?")
    webhooks.flush()
    entry = BotEntry.objects.get()
    for attempt in range(1, FORWARD_ATTEMPTS - 1):  # the scheduled retries
        assert forward(entry.pk, attempt) is False
    assert not Ticket.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert forward(entry.pk, FORWARD_ATTEMPTS - 1) is False  # the last one
    ticket = Ticket.objects.get()
    assert len(bot_endpoint.requests) == FORWARD_ATTEMPTS
    first = ticket.messages.order_by("created_at", "id").first()
    assert first is not None and first.text == "Oi, tem alguém?"
    system = ticket.messages.get(direction=Direction.SYSTEM)
    assert "HTTP 500" in system.text
    assert BotConversation.objects.get().state == BotState.HANDED_OFF
