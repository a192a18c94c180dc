"""Raw mail → ticket through `receive`: threading, duplicates, quarantine, bounces, tenants."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.email.raw_store import single_name, store_one
from atende.connectors.email.receive import receive
from atende.tickets.models import DeliveryStatus, Direction, Message, Status, Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import customer_mail, make_email_channel
from tests.connectors.email.test_parsing import dsn


def test_new_mail_opens_a_ticket_and_keeps_the_raw_mail(email_channel: Channel) -> None:
    raw = customer_mail(message_id="<first@example.com>")
    receipt = receive(email_channel, raw)
    assert receipt.status == InboundStatus.PROCESSED
    message = Message.objects.get(pk=receipt.message_id)
    assert message.ticket.subject == "Pedido atrasado"
    assert message.external_id == "first@example.com"
    assert message.ticket.contact.identities.get().value == "maria@example.com"
    event = InboundEvent.objects.get(pk=receipt.event_id)
    with default_storage.open(event.payload["raw"]) as stored:
        assert stored.read() == raw


def test_duplicate_delivery_leaves_one_entry(email_channel: Channel) -> None:
    raw = customer_mail(message_id="<dup@example.com>")
    first = receive(email_channel, raw)
    second = receive(email_channel, raw)
    assert second.status == InboundStatus.DUPLICATE
    assert second.message_id == first.message_id
    assert Message.objects.filter(external_id="dup@example.com").count() == 1


def test_reply_by_references_token_and_plus_address_join_the_ticket(
        email_channel: Channel) -> None:
    first = receive(email_channel, customer_mail(message_id="<root@example.com>"))
    ticket = Message.objects.get(pk=first.message_id).ticket
    by_ref = receive(email_channel,
                     customer_mail(subject="Re: x", In_Reply_To="<root@example.com>"))
    token = f"[#{ticket.protocol}]"
    by_token = receive(email_channel, customer_mail(subject=f"Re: {token} Pedido"))
    by_plus = receive(email_channel, customer_mail(
        subject="outra coisa", to=f"suporte+{ticket.protocol}@example.com"))
    tickets = {Message.objects.get(pk=r.message_id).ticket_id
               for r in (by_ref, by_token, by_plus)}
    assert tickets == {ticket.pk}
    assert Ticket.objects.count() == 1


def test_subject_text_alone_never_threads(email_channel: Channel) -> None:
    receive(email_channel, customer_mail(subject="Pedido atrasado"))
    receive(email_channel, customer_mail(subject="Re: Pedido atrasado"))
    assert Ticket.objects.count() == 2


def test_forwarded_mail_without_token_opens_its_own_ticket(email_channel: Channel) -> None:
    first = receive(email_channel, customer_mail(message_id="<orig@example.com>"))
    forwarded = receive(email_channel, customer_mail(
        subject="Fwd: Pedido atrasado", sender="joao@example.org",
        References="<orig@example.com>"))
    assert Message.objects.get(pk=forwarded.message_id).ticket_id != \
        Message.objects.get(pk=first.message_id).ticket_id


def test_answer_to_closed_ticket_reopens_or_opens_a_linked_one(tenant: Tenant) -> None:
    reopening = make_email_channel(tenant)
    first = receive(reopening, customer_mail(message_id="<c1@example.com>"))
    Ticket.objects.filter(messages__pk=first.message_id).update(status=Status.CLOSED)
    again = receive(reopening, customer_mail(In_Reply_To="<c1@example.com>"))
    ticket = Message.objects.get(pk=again.message_id).ticket
    assert ticket.messages.count() == 2 and ticket.status == Status.OPEN

    linking = make_email_channel(tenant, reopen_closed=False)
    first = receive(linking, customer_mail(message_id="<c2@example.com>"))
    old = Message.objects.get(pk=first.message_id).ticket
    Ticket.objects.filter(pk=old.pk).update(status=Status.CLOSED)
    answer = receive(linking, customer_mail(In_Reply_To="<c2@example.com>"))
    new = Message.objects.get(pk=answer.message_id).ticket
    assert new.pk != old.pk
    assert new.audit_entries.filter(action="linked", after={"ticket": old.pk}).exists()
    old.refresh_from_db()
    assert old.status == Status.CLOSED


def test_mail_without_a_usable_sender_is_quarantined_with_its_reason(
        email_channel: Channel) -> None:
    receipt = receive(email_channel, b"Subject: no sender\r\n\r\nhello\r\n")
    event = InboundEvent.objects.get(pk=receipt.event_id)
    assert event.status == InboundStatus.QUARANTINED
    assert "e-mail" in event.error.lower()
    assert default_storage.exists(event.payload["raw"])
    # The next mail is taken in as usual.
    assert receive(email_channel, customer_mail()).status == InboundStatus.PROCESSED


def test_our_own_looped_mail_is_dropped(email_channel: Channel) -> None:
    receipt = receive(email_channel, customer_mail(X_Atende_Loop="suporte@example.com"))
    assert receipt.message_id is None
    assert not Ticket.objects.exists()


def test_bounce_marks_our_outbound_message_failed(email_channel: Channel) -> None:
    first = receive(email_channel, customer_mail(message_id="<q@example.com>"))
    ticket = Message.objects.get(pk=first.message_id).ticket
    ours = Message.objects.create(
        organization=ticket.organization, ticket=ticket, direction=Direction.OUTBOUND,
        channel=email_channel, text="resposta", external_id="ours-1@example.com",
        delivery_status=DeliveryStatus.SENT)
    receive(email_channel, dsn("ours-1@example.com"))
    ours.refresh_from_db()
    assert ours.delivery_status == DeliveryStatus.FAILED
    assert "user unknown" in ours.failure_reason


def test_threading_never_crosses_tenants(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = make_email_channel(tenant)
    theirs = make_email_channel(other_tenant)
    first = receive(mine, customer_mail(message_id="<shared@example.com>"))
    ticket = Message.objects.get(pk=first.message_id).ticket
    other = receive(theirs, customer_mail(In_Reply_To="<shared@example.com>",
                                          subject=f"Re: [#{ticket.protocol}] x"))
    other_ticket = Message.objects.get(pk=other.message_id).ticket
    assert other_ticket.organization_id == other_tenant.org.pk
    assert other_ticket.pk != ticket.pk
    assert Ticket.objects.for_org(tenant.org).count() == 1


def test_raw_mail_is_stored_as_the_storage_would_save_it(
        email_channel: Channel, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local fast path of `store_one`: the file and directory modes `save` gives, a
    stored mail kept as it is, and a failing write leaving no partial file behind."""
    settings.FILE_UPLOAD_PERMISSIONS = 0o640
    settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
    raw = customer_mail(message_id="<modes@example.com>")
    name = store_one(email_channel, raw)
    assert name == single_name(email_channel, raw)
    path = Path(default_storage.path(name))
    assert path.read_bytes() == raw
    theirs = Path(default_storage.path(default_storage.save("other/dir/x.eml",
                                                            ContentFile(raw))))
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(theirs.stat().st_mode) == 0o640
    assert (stat.S_IMODE(path.parent.stat().st_mode) == stat.S_IMODE(
        theirs.parent.stat().st_mode) == 0o750)
    assert store_one(email_channel, raw) == name  # stored once, not renamed
    assert len(list(path.parent.iterdir())) == 1

    other = customer_mail(message_id="<broken-disk@example.com>")

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fchmod", full_disk)
    with pytest.raises(OSError, match="No space"):
        store_one(email_channel, other)
    assert not default_storage.exists(single_name(email_channel, other))
