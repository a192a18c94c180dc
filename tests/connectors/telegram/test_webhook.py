"""Telegram's webhook: the secret header checked on every call (missing, wrong, another
channel's, another organisation's), the raw update stored first, and update_id making a
redelivery one entry whatever the order."""

from __future__ import annotations

import pytest

from atende.channels.models import Channel, InboundEvent, InboundStatus, RefusedWebhook
from atende.tickets.models import Message, Ticket
from tests.conftest import Tenant
from tests.connectors.telegram.conftest import Updates, connect
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.django_db


def test_a_message_becomes_a_ticket_with_the_telegram_user_as_contact(
        tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    tg.customer_sends("Oi, meu pedido não chegou")
    assert updates.flush() == [200]
    ticket = Ticket.objects.get(channel=tg_channel)
    assert ticket.origin == "telegram"
    [message] = Message.objects.filter(ticket=ticket)
    assert message.text == "Oi, meu pedido não chegou"
    identity = ticket.contact.identities.get()
    assert (identity.kind, identity.value) == ("telegram", "123456789")
    assert ticket.contact.name == "Maria Souza (@mariasouza)"
    [event] = InboundEvent.objects.filter(channel=tg_channel)
    assert event.status == InboundStatus.PROCESSED and event.message_id == message.pk


def test_a_call_without_the_secret_is_refused_and_logged(
        tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    update = tg.customer_sends("Oi")
    response = updates.post(update, secret="")
    assert response.status_code == 401
    assert not InboundEvent.objects.filter(channel=tg_channel).exists()
    assert RefusedWebhook.objects.get(channel=tg_channel).reason == "missing secret"


@pytest.mark.parametrize("secret", ["wrong", "x" * 300, "é"])
def test_a_call_with_a_wrong_secret_is_refused(
        secret: str, tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    right = tg.webhook["secret_token"]
    assert updates.post(tg.customer_sends("Oi"), secret=right[:-1]).status_code == 401
    if secret.isascii():  # a header is latin-1: the test client cannot send the others
        assert updates.post(tg.customer_sends("Oi"), secret=secret).status_code == 401
    assert not InboundEvent.objects.filter(channel=tg_channel).exists()
    assert RefusedWebhook.objects.get(channel=tg_channel).reason == "wrong secret"


def test_another_channels_secret_is_refused(tenant: Tenant, tg_channel: Channel,
                                            tg: FakeTelegram, updates: Updates) -> None:
    first_secret, first_url = tg.webhook["secret_token"], tg.webhook["url"]
    second = connect(tenant, tg)  # a second bot of the same organisation
    assert tg.webhook["secret_token"] != first_secret
    update = tg.customer_sends("Oi")
    assert updates.post(update, secret=first_secret).status_code == 401  # to the second
    assert updates.post(update, url=first_url).status_code == 401  # second's, to the first
    assert not InboundEvent.objects.filter(channel__in=[tg_channel, second]).exists()


def test_a_secret_of_one_organisation_cannot_post_into_another(
        tenant: Tenant, other_tenant: Tenant, tg: FakeTelegram, updates: Updates) -> None:
    ours = connect(tenant, tg)
    our_secret = tg.webhook["secret_token"]
    theirs = connect(other_tenant, tg)
    update = tg.customer_sends("Oi")
    assert updates.post(update, secret=our_secret).status_code == 401
    assert not InboundEvent.objects.filter(channel=theirs).exists()
    assert not Ticket.objects.filter(organization=other_tenant.org).exists()
    assert not InboundEvent.objects.filter(channel=ours).exists()


def test_an_inactive_or_unknown_channel_answers_404(
        tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    tg_channel.is_active = False
    tg_channel.save()
    assert updates.post(tg.customer_sends("Oi")).status_code == 404
    assert updates.post(tg.customer_sends("Oi"), url="/telegram/999999/webhook").status_code \
        == 404


def test_a_body_that_is_not_an_update_is_kept_quarantined(
        tg_channel: Channel, updates: Updates) -> None:
    assert updates.post(b'{"update_id": ').status_code == 400
    assert updates.post({"message": {"text": "no update id"}}).status_code == 400
    events = InboundEvent.objects.filter(channel=tg_channel)
    assert events.count() == 2
    assert {e.status for e in events} == {InboundStatus.QUARANTINED}
    assert all(e.error.startswith("unreadable:") for e in events)


def test_redeliveries_and_reordering_are_one_entry_each_in_telegrams_order(
        tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    tg.advance(-60)  # minutes ago: a date ahead of Atende's clock is taken as now
    first = tg.customer_sends("primeira")
    tg.advance(5)
    tg.customer_sends("segunda")
    tg.advance(5)
    tg.customer_sends("terceira")
    assert updates.flush(reverse=True) == [200, 200, 200]
    for _ in range(2):
        assert updates.post(first).status_code == 200
    ticket = Ticket.objects.get(channel=tg_channel)  # one open ticket per chat
    texts = list(Message.objects.filter(ticket=ticket).order_by("created_at", "pk")
                 .values_list("text", flat=True))
    assert texts == ["primeira", "segunda", "terceira"]
    assert InboundEvent.objects.filter(channel=tg_channel).count() == 3


def test_the_same_message_under_a_new_update_id_is_a_duplicate(
        tg_channel: Channel, tg: FakeTelegram, updates: Updates) -> None:
    update = tg.customer_sends("Oi")
    again = {**update, "update_id": update["update_id"] + 1000}
    updates.post(update)
    updates.post(again)
    assert Message.objects.filter(channel=tg_channel).count() == 1
    statuses = set(InboundEvent.objects.filter(channel=tg_channel)
                   .values_list("status", flat=True))
    assert statuses == {InboundStatus.PROCESSED, InboundStatus.DUPLICATE}
