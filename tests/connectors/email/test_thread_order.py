"""A conversation is one ticket whatever order its mails arrive in (issue 15, part 1).

Generated conversations (`tests/fakes/mail_threads.py`) are taken in through
`receive_many`, the function the IMAP/POP pollers call with the raw bytes, in many seeded
random orders and batch cuts, with the "ticket opened" acknowledgement on and sent through
a real SMTP server.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from atende.channels.models import Channel
from atende.connectors.email.models import AutomaticMail, NotificationEvent
from atende.connectors.email.notifications import send_notification
from atende.connectors.email.receive import receive_many
from atende.tickets.models import AuditEntry, Direction, Message, Ticket
from atende.workspace.tracking import describe
from tests.conftest import Tenant
from tests.connectors.email.conftest import (
    ADDRESS,
    SMTP_USER,
    customer_mail,
    make_email_channel,
    turn_on,
)
from tests.fakes import mail_threads
from tests.fakes.mail_threads import Conversation, CorpusMail
from tests.fakes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db

_TEXT = re.compile(r"Mensagem (\d+) da conversa (\d+)\.")


@pytest.fixture
def new_channel(tenant: Tenant, smtp_sink: SmtpSink) -> Callable[[], Channel]:
    def make() -> Channel:
        channel = make_email_channel(tenant, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
                                     smtp_security="none", smtp_username=SMTP_USER)
        turn_on(channel, NotificationEvent.OPENED)
        return channel

    return make


def take_in(capture: Any, channel: Channel, raws: list[bytes]) -> None:
    """One poll's batch, with the tasks its commit enqueues run (the acknowledgements)."""
    with capture(execute=True):
        receive_many(channel, [(raw, "corpus") for raw in raws])


def expected_acknowledgement(known: list[CorpusMail]) -> CorpusMail:
    """The first mail by date of those taken in so far that may be answered: a mail without
    a Date header is dated when it is taken in, after every dated one."""
    answerable = [m for m in known if not m.auto]
    return min(answerable, key=lambda m: (not m.dated, m.sent_at))


def run_permutation(seed: int, channel: Channel, sink: SmtpSink, capture: Any,
                    conversations: int) -> None:
    rng = random.Random(seed)
    corpus = mail_threads.corpus(rng, conversations, ADDRESS)
    by_customer = {c.customer: c for c in corpus}
    mails = mail_threads.deliveries(rng, corpus)
    known: dict[int, list[CorpusMail]] = {c.number: [] for c in corpus}
    acknowledged: dict[int, str] = {}
    sent_before = len(sink.deliveries)
    for batch in mail_threads.batches(rng, mails):
        take_in(capture, channel, [m.raw for m in batch])
        for mail in batch:
            known[mail.conversation].append(mail)
        for delivery in sink.deliveries[sent_before:]:
            ack = delivery.message()
            [to] = delivery.rcpt_tos
            conv = by_customer.get(to)
            assert conv is not None, f"seed {seed}: acknowledgement to {to}, not a customer"
            assert conv.number not in acknowledged, f"seed {seed}: second acknowledgement"
            first = expected_acknowledgement(known[conv.number])
            answered = str(ack["In-Reply-To"]).strip("<>")
            acknowledged[conv.number] = answered
            assert answered == stored_id(channel, first), (
                f"seed {seed}: conversation {conv.number} acknowledged {answered}, "
                f"not its first mail known by date")
        sent_before = len(sink.deliveries)
    assert_one_ticket_each(seed, channel, corpus)
    assert sorted(acknowledged) == sorted(c.number for c in corpus), f"seed {seed}"


def stored_id(channel: Channel, mail: CorpusMail) -> str:
    """The Message-ID the mail is stored under (the generated one when it has none)."""
    if mail.message_id:
        return mail.message_id
    position, number = _TEXT.search(mail.raw.decode()).groups()  # type: ignore[union-attr]
    return Message.objects.get(channel=channel, direction=Direction.INBOUND,
                               text__startswith=f"Mensagem {position} da conversa {number}."
                               ).external_id


def assert_one_ticket_each(seed: int, channel: Channel, corpus: list[Conversation]) -> None:
    tickets: dict[int, set[int]] = {}  # conversation → its tickets
    on_ticket: dict[int, set[int]] = {}  # ticket → the conversations of its mails
    count = 0
    for text, ticket_id in Message.objects.filter(
            channel=channel, direction=Direction.INBOUND).values_list("text", "ticket_id"):
        found = _TEXT.search(text)
        assert found, text
        number = int(found.group(2))
        tickets.setdefault(number, set()).add(ticket_id)
        on_ticket.setdefault(ticket_id, set()).add(number)
        count += 1
    assert count == sum(len(c.mails) for c in corpus), f"seed {seed}: a mail lost or doubled"
    split = {n: t for n, t in tickets.items() if len(t) != 1}
    assert not split, f"seed {seed}: conversations on several tickets: {split}"
    mixed = {t: n for t, n in on_ticket.items() if len(n) != 1}
    assert not mixed, f"seed {seed}: tickets holding mails of several conversations: {mixed}"
    assert Ticket.objects.filter(channel=channel).count() == len(corpus)
    assert not AuditEntry.objects.filter(ticket__channel=channel,
                                         action="thread_linked").exists()


def test_every_arrival_order_ends_as_one_ticket_per_conversation_acknowledged_once(
        new_channel: Callable[[], Channel], smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    # PostgreSQL runs the suite's not-slow tests too: a smaller share of the orders there.
    permutations = 40 if connection.vendor == "sqlite" else 10
    for seed in range(permutations):
        run_permutation(seed, new_channel(), smtp_sink, django_capture_on_commit_callbacks,
                        conversations=6)


def test_the_corpus_holds_the_cases_of_the_issue() -> None:
    """The corpus holds the cases of the issue: a reply before its original, References
    only, an Outlook In-Reply-To naming an unseen id, the original in the middle of a long
    chain, an auto-reply before the mail it answers, mails without Message-ID or Date."""
    rng = random.Random(0)
    mails = [m for c in mail_threads.corpus(rng, 40, ADDRESS) for m in c.mails]
    heads = [m.raw.split(b"\n\n", 1)[0].decode() for m in mails]
    assert any("References" in h and "In-Reply-To" not in h for h in heads)
    assert any("outlook.com" in h.split("In-Reply-To: ")[-1] for h in heads
               if "In-Reply-To" in h and "References" in h)
    assert any(h.count("<") >= mail_threads.KEEP_REFERENCES + 1 for h in heads)
    assert any(m.auto for m in mails) and any(not m.message_id for m in mails)
    assert any(not m.dated for m in mails)


def test_an_original_taken_in_after_its_reply_joins_the_reply_ticket(
        new_channel: Callable[[], Channel], smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    channel = new_channel()
    original = customer_mail(message_id="<o@c.example>")
    reply = customer_mail(subject="Re: Pedido atrasado", message_id="<r@c.example>",
                          References="<o@c.example>")
    for raw in (reply, original):  # two polls
        take_in(django_capture_on_commit_callbacks, channel, [raw])
    assert Ticket.objects.filter(channel=channel).count() == 1
    assert len(smtp_sink.deliveries) == 1  # the reply opened the ticket: acknowledged once


def test_an_auto_reply_first_leaves_the_acknowledgement_to_the_customer_mail(
        new_channel: Callable[[], Channel], smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    channel = new_channel()
    original = customer_mail(message_id="<o2@c.example>")
    away = customer_mail(subject="Ausente: Pedido atrasado", sender="Ana <ana@example.com>",
                         message_id="<ooo@c.example>", In_Reply_To="<o2@c.example>",
                         References="<o2@c.example>", Auto_Submitted="auto-replied")
    for raw in (away, original):
        take_in(django_capture_on_commit_callbacks, channel, [raw])
    [ticket] = Ticket.objects.filter(channel=channel)
    assert ticket.messages.filter(direction=Direction.INBOUND).count() == 2
    [ack] = smtp_sink.deliveries
    assert ack.rcpt_tos == ["maria@example.com"]
    assert ack.message()["In-Reply-To"] == "<o2@c.example>"
    assert "Maria Souza" in str(ack.message().get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_a_mail_naming_two_tickets_goes_to_the_mail_it_answers_and_notes_the_other(
        new_channel: Callable[[], Channel], django_capture_on_commit_callbacks: Any) -> None:
    channel = new_channel()
    first = customer_mail(message_id="<a@c.example>")
    second = customer_mail(subject="Outro assunto", message_id="<b@c.example>")
    both = customer_mail(subject="Re: Outro assunto", message_id="<c@c.example>",
                         In_Reply_To="<b@c.example>", References="<a@c.example> <b@c.example>")
    for raw in (first, second, both):
        take_in(django_capture_on_commit_callbacks, channel, [raw])
    a = Message.objects.get(channel=channel, external_id="a@c.example").ticket
    b = Message.objects.get(channel=channel, external_id="b@c.example").ticket
    c = Message.objects.get(channel=channel, external_id="c@c.example").ticket
    assert a != b and c == b  # nothing merged; the mail answered decides
    note = AuditEntry.objects.get(ticket=b, action="thread_linked")
    assert note.after == {"ticket": a.pk, "protocol": a.protocol}
    with translation.override("en"):
        assert describe(note, {}) == (f"received an e-mail that also answers ticket "
                                      f"{a.protocol} (nothing was merged)")


def test_the_acknowledgement_is_sent_once_however_often_asked(
        new_channel: Callable[[], Channel], smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    channel = new_channel()
    take_in(django_capture_on_commit_callbacks, channel, [customer_mail()])
    [ticket] = Ticket.objects.filter(channel=channel)
    assert len(smtp_sink.deliveries) == 1
    assert send_notification(ticket.organization_id, ticket.pk,
                             NotificationEvent.OPENED) == "skipped"
    assert len(smtp_sink.deliveries) == 1


def test_an_acknowledgement_being_sent_by_another_task_is_not_sent_twice(
        new_channel: Callable[[], Channel], smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    channel = new_channel()
    take_in(django_capture_on_commit_callbacks, channel, [customer_mail()])
    [ticket] = Ticket.objects.filter(channel=channel)
    # As if the first send had not been recorded yet while a second task asks.
    AutomaticMail.objects.filter(message__ticket=ticket).delete()
    lock = f"email-ack:{ticket.organization_id}:{ticket.pk}"
    assert cache.add(lock, 1, 60)
    try:
        assert send_notification(ticket.organization_id, ticket.pk,
                                 NotificationEvent.OPENED) == "skipped"
        assert len(smtp_sink.deliveries) == 1
    finally:
        cache.delete(lock)
    assert send_notification(ticket.organization_id, ticket.pk,
                             NotificationEvent.OPENED) == "sent"
    assert len(smtp_sink.deliveries) == 2
