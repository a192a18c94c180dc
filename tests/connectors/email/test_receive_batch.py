"""Mails taken in by batches (`receive_many`): one transaction per batch, each mail still
ending on its own (ingested, duplicate or quarantined), and the mailbox touched only after
the commit."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.email import receive as receive_module
from atende.connectors.email.imap import poll_imap
from atende.connectors.email.models import ProcessingRule, RuleField, RuleOperator
from atende.connectors.email.pop3 import poll_pop3
from atende.connectors.email.receive import receive, receive_many
from atende.tickets.models import DeliveryStatus, Direction, Message, ThreadReference, Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import Mailbox, customer_mail, make_email_channel
from tests.connectors.email.test_parsing import dsn

pytestmark = pytest.mark.django_db


def batch(*raws: bytes) -> list[tuple[bytes, str]]:
    return [(raw, f"test:{n}") for n, raw in enumerate(raws)]


def test_bad_mails_in_the_middle_are_quarantined_and_the_others_ingested(
        email_channel: Channel) -> None:
    receipts = receive_many(email_channel, batch(
        customer_mail(subject="primeiro"),
        b"Subject: sem remetente\r\n\r\ncorpo\r\n",  # no sender: refused by ingest
        customer_mail(subject="meio", sender="Sem Endereço <não-é-email@>"),
        customer_mail(subject="último"),
    ))
    assert [r.status for r in receipts] == [
        InboundStatus.PROCESSED, InboundStatus.QUARANTINED, InboundStatus.QUARANTINED,
        InboundStatus.PROCESSED]
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["primeiro", "último"]
    for receipt in receipts[1:3]:
        event = InboundEvent.objects.get(pk=receipt.event_id)
        assert event.status == InboundStatus.QUARANTINED and event.error == receipt.reason
        assert event.message_id is None and event.processed_at is not None
    assert InboundEvent.objects.filter(status=InboundStatus.PROCESSED).count() == 2


def test_every_event_row_keeps_its_own_outcome(email_channel: Channel) -> None:
    """The outcomes are written together (one statement for the batch): each row still gets
    its own status, message and reason."""
    earlier = customer_mail(subject="antes")
    receive(email_channel, earlier)
    receipts = receive_many(email_channel, batch(
        customer_mail(subject="um"), b"Subject: sem remetente\r\n\r\ncorpo\r\n",
        customer_mail(subject="dois"), earlier, b"Subject: outro sem\r\n\r\nx\r\n",
        customer_mail(subject="três", In_Reply_To="<nada@example.com>"),
    ))
    assert [r.status for r in receipts] == [
        InboundStatus.PROCESSED, InboundStatus.QUARANTINED, InboundStatus.PROCESSED,
        InboundStatus.DUPLICATE, InboundStatus.QUARANTINED, InboundStatus.PROCESSED]
    events = [InboundEvent.objects.get(pk=r.event_id) for r in receipts]
    for receipt, event in zip(receipts, events, strict=True):
        # The redelivered mail points at its earlier event, left as it was.
        status = InboundStatus.PROCESSED if receipt is receipts[3] else receipt.status
        assert (event.status, event.message_id, event.error) == (
            status, receipt.message_id, receipt.reason)
    subjects = [Message.objects.get(pk=r.message_id).ticket.subject
                for r in receipts if r.status == InboundStatus.PROCESSED]
    assert subjects == ["um", "dois", "três"]


def test_duplicates_inside_one_batch_leave_one_entry(email_channel: Channel) -> None:
    raw = customer_mail(message_id="<twice@example.com>", subject="duas vezes")
    same_id = customer_mail(message_id="<twice@example.com>", subject="outro corpo")
    receipts = receive_many(email_channel, batch(raw, customer_mail(), raw, same_id))
    assert [r.status for r in receipts] == [
        InboundStatus.PROCESSED, InboundStatus.PROCESSED, InboundStatus.DUPLICATE,
        InboundStatus.DUPLICATE]
    assert receipts[2].message_id == receipts[3].message_id == receipts[0].message_id
    assert receipts[2].event_id == receipts[0].event_id
    assert Message.objects.filter(external_id="twice@example.com").count() == 1
    assert InboundEvent.objects.count() == 2
    # And again in a later batch.
    again = receive_many(email_channel, batch(raw))
    assert again[0].status == InboundStatus.DUPLICATE
    assert again[0].message_id == receipts[0].message_id


def test_a_reply_and_its_original_in_the_same_batch_thread_together(
        email_channel: Channel) -> None:
    receipts = receive_many(email_channel, batch(
        customer_mail(message_id="<orig-1@example.com>", subject="Pedido"),
        customer_mail(subject="Re: Pedido", In_Reply_To="<orig-1@example.com>"),
        customer_mail(subject="Re: Re: Pedido", sender="joao@example.org",
                      References="<orig-1@example.com>", In_Reply_To="<orig-1@example.com>"),
    ))
    assert {r.status for r in receipts} == {InboundStatus.PROCESSED}
    tickets = {Message.objects.get(pk=r.message_id).ticket_id for r in receipts}
    assert len(tickets) == 1
    assert Ticket.objects.get().messages.count() == 3


def test_a_batch_whose_ingest_fails_as_a_whole_goes_one_by_one(
        email_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should `ingest_many` fail for a whole batch (not per message, as it promises), the
    mails are taken in one at a time: a poison mail never holds the mailbox back."""
    real = receive_module.ingest_many

    def fails_on_batches(channel: Channel, inbounds: list[object], **kwargs: object) -> object:
        if len(inbounds) > 1:
            Ticket.objects.create(organization=channel.organization, number=999_999,
                                  subject="rolled back with the failed batch")
            raise RuntimeError("the set-based insert failed")
        return real(channel, inbounds, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(receive_module, "ingest_many", fails_on_batches)
    receipts = receive_many(email_channel, batch(
        customer_mail(subject="um"),
        customer_mail(subject="dois", sender="Sem Endereço <não-é-email@>"),
        customer_mail(subject="três")))
    assert [r.status for r in receipts] == [
        InboundStatus.PROCESSED, InboundStatus.QUARANTINED, InboundStatus.PROCESSED]
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["três", "um"]


class _DeadlockDetected(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


def test_a_deadlocked_batch_is_taken_in_again_whole_never_quarantined(
        email_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of two pollers of one organisation can deadlock (ticket counter, tickets);
    the database then fails one statement. That says nothing about the mail: the batch is
    rolled back and taken in again."""
    real = receive_module.ingest_many
    calls: list[int] = []

    def deadlocks_once(channel: Channel, inbounds: list[object], **kwargs: object) -> object:
        calls.append(len(inbounds))
        results = real(channel, inbounds, **kwargs)  # type: ignore[arg-type]
        if len(calls) == 1:
            error = OperationalError("deadlock detected")
            error.__cause__ = _DeadlockDetected()
            return [*results[:-1], error]
        return results

    monkeypatch.setattr(receive_module, "ingest_many", deadlocks_once)
    receipts = receive_many(email_channel, batch(
        customer_mail(subject="a"), customer_mail(subject="b"), customer_mail(subject="c")))
    assert calls == [3, 3]
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED] * 3
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["a", "b", "c"]
    assert InboundEvent.objects.count() == 3
    assert not InboundEvent.objects.filter(status=InboundStatus.QUARANTINED).exists()


def test_a_batch_that_keeps_deadlocking_goes_one_mail_per_transaction(
        email_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    real = receive_module.ingest_many
    calls: list[int] = []

    def deadlocks_on_batches(channel: Channel, inbounds: list[object],
                             **kwargs: object) -> object:
        calls.append(len(inbounds))
        results = real(channel, inbounds, **kwargs)  # type: ignore[arg-type]
        if len(inbounds) > 1:
            error = OperationalError("deadlock detected")
            error.__cause__ = _DeadlockDetected()
            return [error, *results[1:]]
        return results

    monkeypatch.setattr(receive_module, "ingest_many", deadlocks_on_batches)
    receipts = receive_many(email_channel, batch(customer_mail(subject="a"),
                                                 customer_mail(subject="b")))
    assert calls == [2, 2, 2, 1, 1]
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED] * 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["a", "b"]


def test_a_redelivered_event_in_a_batch_goes_through_dedupe(email_channel: Channel) -> None:
    """An event stored but left `received` (an interrupted run) is processed again without
    a second entry, in order with the new mails around it."""
    raw = customer_mail(message_id="<kept@example.com>")
    first = receive(email_channel, raw)
    InboundEvent.objects.filter(pk=first.event_id).update(status=InboundStatus.RECEIVED)
    receipts = receive_many(email_channel, batch(customer_mail(), raw, customer_mail()))
    assert [r.status for r in receipts] == [
        InboundStatus.PROCESSED, InboundStatus.DUPLICATE, InboundStatus.PROCESSED]
    assert receipts[1].event_id == first.event_id
    assert receipts[1].message_id == first.message_id
    assert InboundEvent.objects.get(pk=first.event_id).status == InboundStatus.DUPLICATE
    assert Ticket.objects.count() == 3


def test_rules_loops_and_bounces_in_one_batch(email_channel: Channel) -> None:
    ProcessingRule.objects.create(
        organization=email_channel.organization, channel=email_channel, name="spam",
        field=RuleField.SUBJECT, operator=RuleOperator.CONTAINS, value="promoção", ignore=True)
    ProcessingRule.objects.create(
        organization=email_channel.organization, channel=email_channel, name="vip",
        field=RuleField.FROM, operator=RuleOperator.ENDS_WITH, value="@vip.example.com",
        priority="high", no_auto_reply=True, position=1)
    first = receive(email_channel, customer_mail(message_id="<q@example.com>"))
    ticket = Message.objects.get(pk=first.message_id).ticket
    ours = Message.objects.create(
        organization=ticket.organization, ticket=ticket, direction=Direction.OUTBOUND,
        channel=email_channel, text="resposta", external_id="ours-9@example.com",
        delivery_status=DeliveryStatus.SENT)
    receipts = receive_many(email_channel, batch(
        customer_mail(subject="Grande promoção"),
        customer_mail(subject="Cliente importante", sender="ana@vip.example.com"),
        customer_mail(X_Atende_Loop="suporte@example.com"),
        dsn("ours-9@example.com"),
        customer_mail(subject="Outra vip", sender="rui@vip.example.com"),
    ))
    assert receipts[0].status == InboundStatus.PROCESSED and receipts[0].message_id is None
    assert "ignored by rule" in receipts[0].reason
    assert receipts[2].message_id is None and "our own mail" in receipts[2].reason
    for receipt in (receipts[1], receipts[4]):
        vip = Message.objects.get(pk=receipt.message_id).ticket
        assert vip.priority == "high"
        payload = InboundEvent.objects.get(pk=receipt.event_id).payload
        assert payload["no_auto_reply"].startswith("rule ")
    ours.refresh_from_db()
    assert ours.delivery_status == DeliveryStatus.FAILED
    assert not Ticket.objects.filter(subject="Grande promoção").exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_commit_leaves_the_batch_unseen_and_nothing_half_stored(
        tenant: Tenant, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's transaction really fails at COMMIT (a deferred foreign key, checked only
    then): no row of the batch remains and no mail was marked seen."""
    channel = make_email_channel(tenant, in_host=mailbox.server.host,
                                 in_port=mailbox.server.imap_port, in_security="none",
                                 in_username=mailbox.user)
    for n in range(3):
        mailbox.append(customer_mail(subject=f"lote {n}"))
    real_ingest_many = receive_module.ingest_many

    def ingest_then_break_the_commit(*args: object, **kwargs: object) -> object:
        results = real_ingest_many(*args, **kwargs)  # type: ignore[arg-type]
        ThreadReference.objects.create(organization=channel.organization, channel=channel,
                                       key="orphan", ticket_id=2_000_000_000)
        return results

    monkeypatch.setattr(receive_module, "ingest_many", ingest_then_break_the_commit)
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        poll_imap(channel)
    assert all(b"\\Seen" not in f for f in mailbox.flags())
    assert not Ticket.objects.exists() and not InboundEvent.objects.exists()
    monkeypatch.undo()
    receipts = poll_imap(channel).receipts
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED] * 3
    assert all(b"\\Seen" in f for f in mailbox.flags())
    assert Ticket.objects.count() == 3


def test_imap_takes_a_long_mailbox_in_several_batches(
        imap_channel: Channel, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("atende.connectors.email.receive.BATCH_MAILS", 2)
    for n in range(5):
        mailbox.append(customer_mail(subject=f"caixa {n}"))
    mailbox.append(b"Subject: sem remetente\r\n\r\ncorpo\r\n")
    receipts = poll_imap(imap_channel).receipts
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED] * 5 + [
        InboundStatus.QUARANTINED]
    assert all(b"\\Seen" in f for f in mailbox.flags())
    assert Ticket.objects.count() == 5
    assert poll_imap(imap_channel).receipts == []


def test_pop3_batches_delete_only_what_was_committed(
        tenant: Tenant, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("atende.connectors.email.receive.BATCH_MAILS", 2)
    for n in range(3):
        mailbox.append(customer_mail(subject=f"pop {n}"))
    channel = make_email_channel(tenant, in_protocol="pop3", in_host=mailbox.server.host,
                                 in_port=mailbox.server.pop3_port, in_security="none",
                                 in_username=mailbox.user, pop3_delete=True)
    calls = []
    real = receive_module._commit

    def second_batch_fails(channel: Channel, *args: object) -> object:
        calls.append(channel.pk)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(channel, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(receive_module, "_commit", second_batch_fails)
    with pytest.raises(RuntimeError):
        poll_pop3(channel)
    # Without QUIT nothing was deleted, and the first batch is recorded as seen.
    assert len(mailbox.flags()) == 3
    assert Ticket.objects.count() == 2
    monkeypatch.undo()
    receipts = poll_pop3(channel).receipts
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED]
    assert mailbox.flags() == [] and Ticket.objects.count() == 3
