"""The bot's answer timeout (WA-7): a conversation the bot neither answers nor hands off in
time goes to the queue by itself, with the whole conversation and a line saying why; a bot
that answers keeps it; 0 means never; and the sweep and a hand-off by the bot at the same
moment open exactly one ticket."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from atende.channels.models import Channel
from atende.connectors.whatsapp.bot import hand_off
from atende.connectors.whatsapp.bot_timeout import (
    due_conversations,
    hand_off_if_silent,
    hand_off_silent_conversations,
)
from atende.connectors.whatsapp.models import Bot, BotConversation, BotState
from atende.tickets.models import AuditEntry, Direction, Message, Ticket
from atende.tickets.services.actor import Actor
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks, bot_channel_for
from tests.fakes.dialog360 import FakeDialog360
from tests.fakes.http_receiver import HttpReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot_channel(tenant: Tenant, wa: FakeDialog360, bot_endpoint: HttpReceiver,
                admin_client: Client) -> Channel:
    tenant.org.language = "en"
    tenant.org.save()
    return bot_channel_for(tenant, admin_client, bot_endpoint, answer_timeout_minutes="15")


def later(minutes: float) -> Any:
    return timezone.now() + timedelta(minutes=minutes)


def test_a_silent_bot_hands_the_conversation_to_the_queue_after_its_timeout(
        tenant: Tenant, wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks,
        admin_client: Client, django_capture_on_commit_callbacks: Any) -> None:
    wa.customer_sends(CUSTOMER, "Oi", name="Maria Souza")
    wa.customer_sends(CUSTOMER, "Tem alguém aí?")
    webhooks.flush()
    conversation = BotConversation.objects.get()
    assert conversation.waiting_since is not None and conversation.hand_off_due_at is not None
    # The deadline runs from the first unanswered message, not the last one.
    assert conversation.hand_off_due_at - conversation.waiting_since == timedelta(minutes=15)

    assert hand_off_silent_conversations(later(14)) == 0
    assert not Ticket.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert hand_off_silent_conversations(later(16)) == 1
    ticket = Ticket.objects.get()
    timeline = [(m.direction, m.text) for m in ticket.messages.order_by("created_at", "id")]
    assert timeline[:2] == [(Direction.INBOUND, "Oi"), (Direction.INBOUND, "Tem alguém aí?")]
    assert timeline[-1] == (Direction.SYSTEM, "The bot Triagem did not answer in 15 minutes: "
                                              "the conversation went to the queue.")
    audit = AuditEntry.objects.get(ticket=ticket, action="bot_handed_off")
    assert audit.actor_label == "system:bot-timeout"
    assert audit.after == {"bot": "Triagem", "reason": "timeout", "minutes": 15}
    conversation.refresh_from_db()
    assert conversation.state == BotState.HANDED_OFF and conversation.ticket_id == ticket.pk
    assert conversation.hand_off_due_at is None

    assert hand_off_silent_conversations(later(60)) == 0  # idempotent
    assert Ticket.objects.count() == 1 and ticket.messages.count() == len(timeline)
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "the bot did not answer in 15 minutes" in page


def test_a_bot_that_answers_keeps_the_conversation_and_the_clock_restarts(
        tenant: Tenant, wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks) -> None:
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    conversation = BotConversation.objects.get()
    answer = tenant.client.post(f"/api/v1/whatsapp/conversations/{conversation.pk}/messages",
                                {"text": "Olá! Em que posso ajudar?"})
    assert answer.status_code == 201
    conversation.refresh_from_db()
    assert conversation.waiting_since is None and conversation.hand_off_due_at is None
    assert hand_off_silent_conversations(later(60)) == 0
    assert not Ticket.objects.exists()

    wa.customer_sends(CUSTOMER, "Segunda via do boleto")  # the customer's turn again
    webhooks.flush()
    conversation.refresh_from_db()
    assert conversation.hand_off_due_at is not None
    assert conversation.hand_off_due_at > timezone.now() + timedelta(minutes=14)
    assert hand_off_silent_conversations(later(16)) == 1
    ticket = Ticket.objects.get()
    directions = [m.direction for m in ticket.messages.order_by("created_at", "id")]
    assert sorted(directions[:3]) == [Direction.INBOUND, Direction.INBOUND, Direction.OUTBOUND]
    assert directions[3:] == [Direction.SYSTEM]


def test_zero_means_never_and_a_changed_timeout_applies_to_waiting_conversations(
        tenant: Tenant, wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks,
        admin_client: Client) -> None:
    bot = Bot.objects.get()
    assert bot.answer_timeout_minutes == 15
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    conversation = BotConversation.objects.get()

    form = {"bot_id": "triagem", "name": "Triagem", "webhook_url": bot.webhook_url}
    assert admin_client.post(f"/settings/bots/{bot.pk}/", {
        **form, "answer_timeout_minutes": "0"}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.hand_off_due_at is None and conversation.waiting_since is not None
    assert hand_off_silent_conversations(later(60 * 24 * 30)) == 0
    assert "Never" in admin_client.get("/settings/bots/").content.decode()

    assert admin_client.post(f"/settings/bots/{bot.pk}/", {
        **form, "answer_timeout_minutes": "5"}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.hand_off_due_at == conversation.waiting_since + timedelta(minutes=5)
    assert hand_off_silent_conversations(later(6)) == 1

    refused = admin_client.post(f"/settings/bots/{bot.pk}/", {
        **form, "answer_timeout_minutes": "-1"})
    assert refused.status_code == 200
    bot.refresh_from_db()
    assert bot.answer_timeout_minutes == 5


def test_the_bot_wins_when_it_hands_off_between_the_sweeps_read_and_its_lock(
        tenant: Tenant, wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks) -> None:
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    now = later(16)
    due = due_conversations(now)
    conversation = BotConversation.objects.get()
    assert due == [(tenant.org.pk, conversation.pk)]
    handed = tenant.client.post(f"/api/v1/whatsapp/conversations/{conversation.pk}/handoff",
                                {"note": "Cliente pediu atendente."})
    assert handed.status_code == 200 and handed.json()["handed_off"] is True
    assert hand_off_if_silent(tenant.org.pk, conversation.pk, now) is False
    ticket = Ticket.objects.get()
    assert ticket.messages.filter(direction=Direction.SYSTEM).count() == 1
    assert AuditEntry.objects.filter(action="bot_handed_off").count() == 1


def test_a_bot_answer_between_the_sweeps_read_and_its_lock_keeps_the_conversation(
        tenant: Tenant, wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks) -> None:
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    now = later(16)
    [(org_id, conversation_id)] = due_conversations(now)
    assert tenant.client.post(f"/api/v1/whatsapp/conversations/{conversation_id}/messages",
                              {"text": "Oi! Já vou ver."}).status_code == 201
    assert hand_off_if_silent(org_id, conversation_id, now) is False
    assert not Ticket.objects.exists()
    assert BotConversation.objects.get().state == BotState.AT_BOT


def test_the_sweep_stays_in_each_conversations_tenant(
        tenant: Tenant, other_tenant: Tenant, wa: FakeDialog360, bot_channel: Channel,
        webhooks: Webhooks) -> None:
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    [(org_id, conversation_id)] = due_conversations(later(16))
    assert org_id == tenant.org.pk
    with pytest.raises(BotConversation.DoesNotExist):
        hand_off_if_silent(other_tenant.org.pk, conversation_id, later(16))
    assert hand_off_silent_conversations(later(16)) == 1
    assert Ticket.objects.get().organization_id == tenant.org.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason=(
    "SQLite serialises writers (and its shared-cache test database refuses concurrent "
    "threads); the race is covered there by the two tests above"))
@pytest.mark.django_db(transaction=True)
def test_sweep_and_bot_hand_off_at_the_same_moment_open_one_ticket(
        tenant: Tenant, wa: FakeDialog360, bot_channel: Channel, webhooks: Webhooks) -> None:
    for n in range(3):
        wa.customer_sends(CUSTOMER, f"parte {n}")
    webhooks.flush()
    conversation = BotConversation.objects.get()
    now = later(16)
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str, call: Any) -> None:
        try:
            barrier.wait()
            results[name] = call()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("sweep", lambda: hand_off_silent_conversations(now))),
        threading.Thread(target=run, args=("bot", lambda: hand_off(
            tenant.org.pk, conversation.pk, actor=Actor(label="bot")))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    ticket = Ticket.objects.get()
    assert results["bot"].ticket.pk == ticket.pk
    assert results["sweep"] + int(results["bot"].created) == 1  # exactly one of them opened it
    assert ticket.messages.filter(direction=Direction.INBOUND).count() == 3
    assert Message.objects.filter(direction=Direction.SYSTEM).count() == 1
    assert AuditEntry.objects.filter(action="bot_handed_off").count() == 1


def test_the_migration_starts_the_clock_of_conversations_already_stuck_at_the_bot(
        tenant: Tenant, bot_channel: Channel) -> None:
    from importlib import import_module

    from django.apps import apps

    from atende.connectors.whatsapp.models import BotEntry

    migration = import_module("atende.connectors.whatsapp.migrations.0004_bot_answer_timeout")
    bot = Bot.objects.get()
    start = timezone.now() - timedelta(hours=2)
    stuck, answered = (BotConversation.objects.create(
        organization=tenant.org, channel=bot_channel, bot=bot, number=number)
        for number in ("+5511900000001", "+5511900000002"))
    for n, (conversation, inbound) in enumerate(
            [(stuck, True), (stuck, False), (stuck, True), (stuck, True),
             (answered, True), (answered, False)]):
        BotEntry.objects.create(organization=tenant.org, conversation=conversation,
                                inbound=inbound, wamid=f"wamid.{n}",
                                created_at=start + timedelta(minutes=n))
    migration.start_waiting(apps, None)
    stuck.refresh_from_db()
    answered.refresh_from_db()
    assert stuck.waiting_since == start + timedelta(minutes=2)  # first after the bot's answer
    assert stuck.hand_off_due_at == start + timedelta(minutes=17)
    assert answered.waiting_since is None and answered.hand_off_due_at is None
    assert due_conversations(timezone.now()) == [(tenant.org.pk, stuck.pk)]
