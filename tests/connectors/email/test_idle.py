"""IMAP IDLE (`atende mail-idle`) against a real Dovecot: mail dropped into the Maildir
becomes a ticket within seconds without any poll; a server restart is survived; a
deactivated channel stops; one watcher per channel; servers without IDLE stay on polling."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from django.db import OperationalError

from atende.channels.models import Channel
from atende.connectors.email import leases, watcher
from atende.connectors.email.client import open_imap
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.idle import idle, supports_idle
from atende.connectors.email.imap import select_folder
from atende.connectors.email.models import MailboxLease
from atende.connectors.email.polling import IDLE_SAFETY_POLL_SECONDS, due_channel_ids
from atende.tickets.models import Ticket
from tests.connectors.email.conftest import Mailbox, customer_mail

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition: Callable[[], object], seconds: float = 8.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> Iterator[watcher.Watcher]:
    monkeypatch.setattr(watcher, "TICK", 0.1)
    w = watcher.Watcher()
    yield w
    w.shutdown()


def idling(w: watcher.Watcher, channel: Channel) -> watcher.ChannelWatch:
    """Started, leased, caught up: the thread is (about to be) in IDLE."""
    w.sync()
    watch = w.watches[channel.pk]
    wait_for(lambda: watch.fetched >= 1)
    time.sleep(0.3)
    return watch


def subjects() -> list[str]:
    # The test database is SQLite in memory with a shared cache, where a read racing the
    # watcher thread's write fails at once ("table is locked") instead of waiting.
    for _attempt in range(50):
        try:
            return sorted(Ticket.objects.values_list("subject", flat=True))
        except OperationalError:
            time.sleep(0.05)
    raise AssertionError("the test database stayed locked")


def fetched(watch: watcher.ChannelWatch, subject: str, seconds: float = 5) -> None:
    """Wait until a fetch of `watch` has taken a mail with `subject` in (the database is
    read only after a fetch finished, see `subjects`)."""
    seen = -1
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if watch.fetched != seen:
            seen = watch.fetched
            if subject in subjects():
                return
        time.sleep(0.05)
    raise AssertionError(f"{subject!r} not taken in within {seconds} s: {subjects()}")


def test_mail_delivered_while_idling_becomes_a_ticket_within_seconds(
        imap_channel: Channel, mailbox: Mailbox, running: watcher.Watcher) -> None:
    mailbox.append(customer_mail(subject="antes"))  # also creates the Maildir
    watch = idling(running, imap_channel)
    assert subjects() == ["antes"]  # caught up on connect
    assert MailboxLease.objects.filter(channel=imap_channel, purpose=leases.IDLE).exists()

    started = time.monotonic()
    mailbox.server.deliver(mailbox.user, customer_mail(subject="durante o IDLE"))
    fetched(watch, "durante o IDLE")
    assert time.monotonic() - started < 5
    assert watch.wakes == 2  # one fetch on connect, one for the EXISTS: nothing polled
    assert all(b"\\Seen" in f for f in mailbox.flags())


def test_the_watcher_survives_a_server_restart(
        imap_channel: Channel, mailbox: Mailbox, running: watcher.Watcher) -> None:
    mailbox.append(customer_mail(subject="antes"))
    watch = idling(running, imap_channel)
    mailbox.server.restart()
    # Reconnects with backoff (2 s first), catches up, idles again.
    mailbox.server.deliver(mailbox.user, customer_mail(subject="durante a queda"))
    fetched(watch, "durante a queda", seconds=15)
    time.sleep(0.5)
    mailbox.server.deliver(mailbox.user, customer_mail(subject="depois"))
    fetched(watch, "depois")
    assert watch.alive()


def test_a_deactivated_channel_stops_being_watched(
        imap_channel: Channel, mailbox: Mailbox, running: watcher.Watcher) -> None:
    mailbox.append(customer_mail(subject="antes"))
    watch = idling(running, imap_channel)
    Channel.objects.filter(pk=imap_channel.pk).update(is_active=False)
    running.sync()
    assert imap_channel.pk not in running.watches
    wait_for(lambda: not watch.alive(), seconds=5)
    assert not MailboxLease.objects.filter(channel=imap_channel).exists()
    mailbox.server.deliver(mailbox.user, customer_mail(subject="ignorado"))
    time.sleep(1.5)
    assert subjects() == ["antes"]


def test_changed_settings_restart_the_watch(
        imap_channel: Channel, mailbox: Mailbox, running: watcher.Watcher) -> None:
    mailbox.append(customer_mail(subject="na pasta"), folder="Suporte")
    first = idling(running, imap_channel)
    assert subjects() == []
    imap_channel.settings = {**imap_channel.settings, "in_folder": "Suporte"}
    imap_channel.save()
    running.sync()
    assert not first.alive()
    fetched(running.watches[imap_channel.pk], "na pasta")


def test_one_watcher_per_channel_across_processes(
        imap_channel: Channel, mailbox: Mailbox, running: watcher.Watcher,
        monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox.append(customer_mail(subject="antes"))
    idling(running, imap_channel)
    monkeypatch.setattr(watcher, "RENEW_SECONDS", 0.2)
    other = watcher.Watcher()  # as if on another machine
    try:
        other.sync()
        time.sleep(1)
        assert other.watches[imap_channel.pk].wakes == 0  # waits for the lease
        assert not leases.acquire(imap_channel.organization_id, imap_channel.pk, leases.IDLE,
                                  "someone-else", 60)
        # The first one goes away: the other takes over within a lease renewal.
        running.shutdown()
        mailbox.server.deliver(mailbox.user, customer_mail(subject="depois da troca"))
        fetched(other.watches[imap_channel.pk], "depois da troca", seconds=8)
    finally:
        other.shutdown()


def test_a_poll_and_an_idle_wake_share_the_fetch_lock(imap_channel: Channel,
                                                      mailbox: Mailbox) -> None:
    from atende.connectors.email.polling import poll_channel

    mailbox.append(customer_mail())
    assert leases.acquire(imap_channel.organization_id, imap_channel.pk, leases.FETCH,
                          "worker-elsewhere", 60)
    assert poll_channel(imap_channel.pk) is None  # busy: nothing fetched twice
    assert not Ticket.objects.exists()
    leases.release(imap_channel.pk, leases.FETCH, "worker-elsewhere")
    report = poll_channel(imap_channel.pk)
    assert report is not None and len(report.receipts) == 1
    assert not MailboxLease.objects.exists()


def test_a_server_without_idle_stays_on_polling(
        imap_channel: Channel, mailbox: Mailbox, running: watcher.Watcher) -> None:
    mailbox.append(customer_mail(subject="antes"))
    mailbox.server.restart("imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE\n")
    running.sync()
    watch = running.watches[imap_channel.pk]
    wait_for(lambda: watch.no_idle_at is not None)
    wait_for(lambda: not watch.alive())
    assert watch.wakes == 0 and not MailboxLease.objects.exists()
    assert due_channel_ids() == [imap_channel.pk]


def test_polls_are_rare_while_a_watcher_idles(
        imap_channel: Channel, mailbox: Mailbox, running: watcher.Watcher) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from atende.connectors.email.models import MailboxState

    mailbox.append(customer_mail())
    idling(running, imap_channel)
    MailboxState.objects.filter(channel=imap_channel).update(
        polled_at=timezone.now() - timedelta(seconds=120))
    assert due_channel_ids() == []  # 60 s interval, but IDLE is live
    MailboxState.objects.filter(channel=imap_channel).update(
        polled_at=timezone.now() - timedelta(seconds=IDLE_SAFETY_POLL_SECONDS))
    assert due_channel_ids() == [imap_channel.pk]


def test_idle_returns_when_asked_to_stop_and_reissues(imap_channel: Channel,
                                                      mailbox: Mailbox) -> None:
    mailbox.append(customer_mail())
    cfg = EmailSettings.of(imap_channel)
    conn = open_imap(cfg.inbound)
    try:
        assert supports_idle(conn)
        select_folder(conn, cfg.folder)
        started = time.monotonic()
        assert idle(conn, 0.5, tick=0.1) is False  # re-issue period ends it cleanly
        assert idle(conn, 30, tick=0.1, keep_going=lambda: False) is False
        assert time.monotonic() - started < 3
        # The connection is still usable for normal commands afterwards.
        typ, _data = conn.noop()
        assert typ == "OK"
    finally:
        conn.logout()


def test_token_refreshes_do_not_restart_a_watch_but_new_credentials_do(
        email_channel: Channel) -> None:
    before = watcher.fingerprint(email_channel)
    email_channel.secrets = {**email_channel.secrets, "oauth_access_token": "new",
                             "oauth_expires_at": 123}
    email_channel.save()
    assert watcher.fingerprint(Channel.objects.get(pk=email_channel.pk)) == before
    email_channel.secrets = {**email_channel.secrets, "in_password": "changed"}
    email_channel.save()
    assert watcher.fingerprint(Channel.objects.get(pk=email_channel.pk)) != before
