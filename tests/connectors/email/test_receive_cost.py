"""What one received mail costs in SQL statements, and that the shortcuts taken for it keep
the guarantees: one transaction per mail, duplicates still end as duplicates."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.email.receive import receive, receive_many
from atende.tickets.models import DeliveryStatus, Direction, Message, Ticket
from tests.connectors.email.conftest import customer_mail

pytestmark = pytest.mark.django_db

# Statements inside the test's transaction, savepoints included. A new mail from a new
# customer, through the set-based `ingest_many`: event lookup, event row, rules, contact
# (lookup, contact, identity), thread references, SLA policy (CORE-13), ticket number,
# ticket, message, audit, thread key, one outbox insert for both events, whether an
# "opened" notification is on (EM-5), event outcome, the report roll-ups' pending mark of
# each event, and the savepoints. A reply from a known customer: the thread references,
# then its ticket locked, and whether the channel sends the "opened" notification (a ticket
# an auto-reply opened may still owe it).
NEW_MAIL_STATEMENTS = 26
REPLY_STATEMENTS = 23
# Once per batch whatever its size: the transaction (2), the event lookup, the rules, the
# events' insert in a savepoint (3), the ingest's savepoint (2) and the outcomes' update.
PER_BATCH_STATEMENTS = 10


def warm(channel: Channel) -> Channel:
    """As a poller holds it: loaded once per poll run, organisation and service cached."""
    channel = Channel.objects.select_related("organization", "service").get(pk=channel.pk)
    receive(channel, customer_mail(sender="warm@example.com"))
    return channel


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


def test_a_new_mail_and_a_reply_cost_a_fixed_number_of_statements(
        email_channel: Channel, django_assert_num_queries: Any) -> None:
    channel = warm(email_channel)
    with django_assert_num_queries(NEW_MAIL_STATEMENTS):
        first = receive(channel, customer_mail(message_id="<n1@example.com>",
                                               sender="nova@example.com"))
    with django_assert_num_queries(REPLY_STATEMENTS):
        reply = receive(channel, customer_mail(In_Reply_To="<n1@example.com>",
                                               sender="nova@example.com", subject="Re: x"))
    assert first.status == reply.status == InboundStatus.PROCESSED
    assert Message.objects.get(pk=reply.message_id).ticket_id == Message.objects.get(
        pk=first.message_id).ticket_id


def test_a_batch_pays_its_bookkeeping_once(email_channel: Channel) -> None:
    channel = warm(email_channel)
    mails = [(customer_mail(sender=f"c{n}@example.com"), "") for n in range(10)]
    with CaptureQueriesContext(connection) as queries:
        receipts = receive_many(channel, mails)
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED] * 10
    per_mail = NEW_MAIL_STATEMENTS - PER_BATCH_STATEMENTS
    assert len(queries) <= PER_BATCH_STATEMENTS + 10 * per_mail
    sql = statements(queries)
    assert sum(s.startswith('INSERT INTO "connectors_inboundevent"') for s in sql) == 1
    # One call (SQLite: one executemany, logged as "N times: UPDATE …").
    assert sum('UPDATE "connectors_inboundevent"' in s for s in sql) == 1
    assert sum('FROM "email_channel_processingrule"' in s for s in sql) == 1


def test_the_channel_is_not_read_again_and_the_event_outcome_is_in_the_transaction(
        email_channel: Channel) -> None:
    channel = warm(email_channel)
    with CaptureQueriesContext(connection) as queries:
        receive(channel, customer_mail())
    sql = statements(queries)
    assert not [s for s in sql if 'FROM "connectors_channel"' in s]
    # receive's own transaction is the first savepoint here and the last statement closes it:
    # the event row's outcome is written before, inside it.
    assert sql[0].startswith("SAVEPOINT") and sql[-1].startswith("RELEASE SAVEPOINT")
    update = next(i for i, s in enumerate(sql) if 'UPDATE "connectors_inboundevent"' in s)
    assert update == len(sql) - 2
    assert sum(s.startswith("SAVEPOINT") for s in sql) == sum(
        s.startswith("RELEASE SAVEPOINT") for s in sql)


def test_a_mail_carrying_the_id_of_our_own_message_is_a_duplicate_not_a_second_entry(
        email_channel: Channel) -> None:
    """The event is new, so ingest skips its dedupe lookup; the unique constraint on
    (channel, external_id) still turns the insert into a duplicate."""
    first = receive(email_channel, customer_mail(message_id="<c1@example.com>"))
    ticket = Message.objects.get(pk=first.message_id).ticket
    ours = Message.objects.create(
        organization=ticket.organization, ticket=ticket, direction=Direction.OUTBOUND,
        channel=email_channel, text="resposta", external_id="ours-7@example.com",
        delivery_status=DeliveryStatus.SENT)
    receipt = receive(email_channel, customer_mail(message_id="<ours-7@example.com>",
                                                   sender="other@example.com"))
    assert receipt.status == InboundStatus.DUPLICATE
    assert receipt.message_id == ours.pk
    assert Ticket.objects.count() == 1
    assert InboundEvent.objects.get(pk=receipt.event_id).status == InboundStatus.DUPLICATE


def test_a_failed_ingest_rolls_back_its_part_and_quarantines_in_the_same_transaction(
        email_channel: Channel) -> None:
    receipt = receive(email_channel, customer_mail(sender="Sem Endereço <não-é-email@>"))
    event = InboundEvent.objects.get(pk=receipt.event_id)
    assert event.status == InboundStatus.QUARANTINED and event.error
    assert not Ticket.objects.exists()
