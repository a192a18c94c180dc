"""IMAP and POP3 polling against a real Dovecot."""

from __future__ import annotations

import imaplib

import pytest

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.email.imap import poll_imap
from atende.connectors.email.models import MailboxState, Pop3Seen
from atende.connectors.email.polling import due_channel_ids, poll_channel
from atende.connectors.email.pop3 import poll_pop3
from atende.tickets.models import Message, Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import Mailbox, customer_mail, make_email_channel
from tests.fakes.dovecot import PASSWORD


def test_imap_takes_only_unread_mail_and_marks_it_seen_after_commit(
        imap_channel: Channel, mailbox: Mailbox) -> None:
    mailbox.append(customer_mail(subject="lida"), flags="(\\Seen)")
    mailbox.append(customer_mail(subject="nova 1"))
    mailbox.append(customer_mail(subject="nova 2"))
    report = poll_imap(imap_channel)
    assert [r.status for r in report.receipts] == [InboundStatus.PROCESSED] * 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["nova 1", "nova 2"]
    assert all(b"\\Seen" in f for f in mailbox.flags())
    state = MailboxState.objects.get(channel=imap_channel, folder="INBOX")
    assert state.last_uid == 3 and state.uidvalidity > 0
    # Nothing new: nothing fetched, nothing duplicated.
    assert poll_imap(imap_channel).receipts == []
    assert Message.objects.count() == 2


def test_imap_fetch_does_not_mark_seen_when_ingest_fails(
        imap_channel: Channel, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox.append(customer_mail())

    def broken_database(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("atende.connectors.email.receive._commit", broken_database)
    with pytest.raises(RuntimeError):
        poll_imap(imap_channel)
    assert all(b"\\Seen" not in f for f in mailbox.flags())
    monkeypatch.undo()
    assert len(poll_imap(imap_channel).receipts) == 1


def test_imap_unread_mail_marked_unseen_again_is_not_duplicated(
        imap_channel: Channel, mailbox: Mailbox) -> None:
    mailbox.append(customer_mail(message_id="<again@example.com>"))
    poll_imap(imap_channel)
    # Someone marks it unread again and the UID state is lost (UIDVALIDITY change).
    MailboxState.objects.filter(channel=imap_channel).update(uidvalidity=1, last_uid=0)
    conn = mailbox.server.imap(mailbox.user)
    conn.select("INBOX")
    conn.uid("STORE", "1", "-FLAGS", "(\\Seen)")
    conn.logout()
    receipts = poll_imap(imap_channel).receipts
    assert [r.status for r in receipts] == [InboundStatus.DUPLICATE]
    assert Message.objects.filter(external_id="again@example.com").count() == 1


def test_imap_other_folder_and_missing_folder(tenant: Tenant, mailbox: Mailbox) -> None:
    mailbox.append(customer_mail(subject="na pasta"), folder="Suporte")
    channel = make_email_channel(tenant, in_host=mailbox.server.host,
                                 in_port=mailbox.server.imap_port, in_security="none",
                                 in_username=mailbox.user, in_folder="Suporte")
    assert len(poll_imap(channel).receipts) == 1
    missing = make_email_channel(tenant, in_host=mailbox.server.host,
                                 in_port=mailbox.server.imap_port, in_security="none",
                                 in_username=mailbox.user, in_folder="Nao Existe")
    poll_channel(missing.pk)
    state = MailboxState.objects.get(channel=missing)
    assert state.last_error.startswith("folder")


def test_imap_bad_mail_is_quarantined_and_the_poller_goes_on(
        imap_channel: Channel, mailbox: Mailbox) -> None:
    mailbox.append(b"Subject: sem remetente\r\n\r\ncorpo\r\n")
    mailbox.append(customer_mail(subject="boa"))
    receipts = poll_imap(imap_channel).receipts
    assert [r.status for r in receipts] == [InboundStatus.QUARANTINED, InboundStatus.PROCESSED]
    assert InboundEvent.objects.get(status=InboundStatus.QUARANTINED).error
    assert all(b"\\Seen" in f for f in mailbox.flags())


def test_wrong_password_is_recorded_not_raised(imap_channel: Channel) -> None:
    imap_channel.secrets = {"in_password": "wrong"}
    imap_channel.save()
    assert poll_channel(imap_channel.pk) is None
    assert MailboxState.objects.get(channel=imap_channel).last_error.startswith("auth")


def pop3_channel(tenant: Tenant, mailbox: Mailbox, delete: bool) -> Channel:
    return make_email_channel(tenant, in_protocol="pop3", in_host=mailbox.server.host,
                              in_port=mailbox.server.pop3_port, in_security="none",
                              in_username=mailbox.user, pop3_delete=delete)


def test_pop3_keep_tracks_uidl(tenant: Tenant, mailbox: Mailbox) -> None:
    mailbox.append(customer_mail(subject="pop 1"))
    mailbox.append(customer_mail(subject="pop 2"))
    channel = pop3_channel(tenant, mailbox, delete=False)
    assert len(poll_pop3(channel).receipts) == 2
    assert Pop3Seen.objects.filter(channel=channel).count() == 2
    mailbox.append(customer_mail(subject="pop 3"))
    assert len(poll_pop3(channel).receipts) == 1
    assert Ticket.objects.count() == 3
    assert len(mailbox.flags()) == 3  # kept on the server


def test_pop3_delete_removes_after_commit(tenant: Tenant, mailbox: Mailbox) -> None:
    mailbox.append(customer_mail(subject="apagar"))
    channel = pop3_channel(tenant, mailbox, delete=True)
    assert len(poll_pop3(channel).receipts) == 1
    assert mailbox.flags() == []
    assert Ticket.objects.get().subject == "apagar"


def test_due_channels_follow_the_poll_interval(imap_channel: Channel, tenant: Tenant) -> None:
    make_email_channel(tenant, is_active=False)
    assert imap_channel.pk in due_channel_ids()
    poll_channel(imap_channel.pk)
    assert imap_channel.pk not in due_channel_ids()


def test_poll_states_are_tenant_scoped(tenant: Tenant, other_tenant: Tenant,
                                       mailbox: Mailbox) -> None:
    mailbox.append(customer_mail())
    mine = make_email_channel(tenant, in_host=mailbox.server.host,
                              in_port=mailbox.server.imap_port, in_security="none",
                              in_username=mailbox.user)
    poll_imap(mine)
    assert MailboxState.objects.for_org(other_tenant.org).count() == 0
    assert Ticket.objects.for_org(other_tenant.org).count() == 0
    assert MailboxState.objects.get().organization_id == tenant.org.pk


def test_dovecot_really_checks_passwords(mailbox: Mailbox) -> None:
    with pytest.raises(imaplib.IMAP4.error):
        imaplib.IMAP4(mailbox.server.host, mailbox.server.imap_port).login(mailbox.user, "x")
    assert PASSWORD
