"""Hostile mail: each ends as a ticket or a quarantined event with a visible reason, the
poller never stops and no other mail is lost."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.email.imap import poll_imap
from atende.connectors.email.receive import receive
from atende.tickets.models import Attachment, Message, Ticket
from tests.connectors.email import hostile
from tests.connectors.email.conftest import Mailbox, customer_mail


def assert_taken_in(channel: Channel, raw: bytes) -> Message | None:
    receipt = receive(channel, raw)
    event = InboundEvent.objects.get(pk=receipt.event_id)
    assert default_storage.exists(event.payload["raw"])
    if receipt.status == InboundStatus.QUARANTINED:
        assert event.error, "a quarantined mail says why"
        return None
    assert receipt.status == InboundStatus.PROCESSED, receipt
    return Message.objects.get(pk=receipt.message_id)


@pytest.mark.parametrize("name", sorted(hostile.corpus()))
def test_corpus_mail_ends_as_ticket_or_quarantined(email_channel: Channel, name: str) -> None:
    assert_taken_in(email_channel, hostile.corpus()[name])
    # The channel goes on working.
    assert assert_taken_in(email_channel, customer_mail()) is not None


def test_corpus_details(email_channel: Channel) -> None:
    corpus = hostile.corpus()
    lying = assert_taken_in(email_channel, corpus["lying_charset.eml"])
    assert lying is not None and "Olá, não recebi" in lying.text
    assert lying.ticket.subject == "acentuação latin-1"
    nul = assert_taken_in(email_channel, corpus["nul_bytes.eml"])
    assert nul is not None and "\x00" not in nul.text + nul.html + nul.ticket.subject
    traversal = assert_taken_in(email_channel, corpus["path_traversal.eml"])
    assert traversal is not None
    names = set(traversal.attachments.values_list("filename", flat=True))
    assert names == {"passwd", "win.ini", "htaccess"}
    for attachment in Attachment.objects.all():
        assert ".." not in attachment.file.name and "passwd" not in attachment.file.name
    abuse = assert_taken_in(email_channel, corpus["encoded_word_abuse.eml"])
    assert abuse is not None and len(abuse.ticket.subject) <= 300
    no_id = assert_taken_in(email_channel, corpus["no_message_id.eml"])
    assert no_id is not None and no_id.external_id.endswith("@atende.generated")
    assert assert_taken_in(email_channel, corpus["empty.eml"]) is None
    assert assert_taken_in(email_channel, corpus["garbage.eml"]) is None


def test_many_recipients_and_deep_nesting(email_channel: Channel) -> None:
    many = assert_taken_in(email_channel, hostile.many_recipients())
    assert many is not None and many.ticket.subject == "para 5000 pessoas"
    deep = assert_taken_in(email_channel, hostile.deep_multipart())
    assert deep is not None
    assert "nested too deeply" in deep.text or "aninhadas profundamente" in deep.text


def test_huge_header(email_channel: Channel) -> None:
    message = assert_taken_in(email_channel, hostile.huge_header())
    assert message is not None
    assert len(message.ticket.subject) <= 300


def test_oversize_attachment_is_refused_with_a_note(email_channel: Channel) -> None:
    message = assert_taken_in(email_channel, hostile.big_attachment())
    assert message is not None
    assert message.attachments.count() == 0
    assert "backup.bin" in message.text and "25 MB" in message.text


def test_poller_goes_on_through_hostile_mail(imap_channel: Channel, mailbox: Mailbox) -> None:
    corpus = hostile.corpus()
    hostile_mails = [corpus[n] for n in ("broken_mime.eml", "unknown_charset.eml",
                                         "encoded_word_abuse.eml", "path_traversal.eml",
                                         "dsn_unknown_original.eml")]
    hostile_mails += [hostile.deep_multipart(), hostile.many_recipients(),
                      hostile.big_attachment(), hostile.huge_header()]
    for n, raw in enumerate(hostile_mails):
        mailbox.append(raw)
        mailbox.append(customer_mail(subject=f"boa {n}"))
    receipts = poll_imap(imap_channel).receipts
    assert len(receipts) == 2 * len(hostile_mails)
    assert all(r.status in (InboundStatus.PROCESSED, InboundStatus.QUARANTINED)
               for r in receipts)
    good = set(Ticket.objects.filter(subject__startswith="boa ").values_list("subject",
                                                                             flat=True))
    assert good == {f"boa {n}" for n in range(len(hostile_mails))}
    assert all(b"\\Seen" in f for f in mailbox.flags())
