"""A mailbox holding more unread mail than one batch (issue 15, part 2), on a real Dovecot:
the IDLE watcher, the periodic poll and POP3 take all of it in at once, batch after batch,
each batch its own transaction, and a poll stopped half-way loses and duplicates nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage

from atende import jobs
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.email import imap, polling, receive, watcher
from atende.connectors.email.imap import poll_imap
from atende.connectors.email.models import MailboxState, Pop3Seen
from atende.connectors.email.pop3 import poll_pop3
from atende.tickets.models import Message, Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import Mailbox, customer_mail, make_email_channel

pytestmark = pytest.mark.django_db(transaction=True)

SMALL_BATCH = 5
BACKLOG = 3 * SMALL_BATCH + 17


def fill(mailbox: Mailbox, count: int, prefix: str = "atraso") -> None:
    """`count` unread mails dropped straight into the Maildir, as a delivery agent would
    (an outage's backlog: far faster than APPEND)."""
    conn = mailbox.server.imap(mailbox.user)
    conn.select("INBOX")  # creates the Maildir
    conn.logout()
    for n in range(count):
        mailbox.server.deliver(mailbox.user, customer_mail(subject=f"{prefix} {n}"))


def unseen(mailbox: Mailbox) -> int:
    return sum(b"\\Seen" not in f for f in mailbox.flags())


def tickets() -> int:
    # SQLite in memory with a shared cache: a read racing a watcher thread's write fails at
    # once ("table is locked") instead of waiting.
    for _attempt in range(50):
        try:
            return Ticket.objects.count()
        except OperationalError:
            time.sleep(0.05)
    raise AssertionError("the test database stayed locked")


def pop3_channel(tenant: Tenant, mailbox: Mailbox, delete: bool) -> Channel:
    return make_email_channel(tenant, in_protocol="pop3", in_host=mailbox.server.host,
                              in_port=mailbox.server.pop3_port, in_security="none",
                              in_username=mailbox.user, pop3_delete=delete)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap, "BATCH", SMALL_BATCH)
    monkeypatch.setattr(receive, "BATCH_MAILS", 3)  # transactions smaller than a search


def counting_polls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The channel id of every poll run, in order (the real poll still runs)."""
    calls: list[int] = []
    real = polling.poll_channel

    def poll_channel(channel_id: int, wait: float = 0) -> Any:
        calls.append(channel_id)
        return real(channel_id, wait)

    monkeypatch.setattr(polling, "poll_channel", poll_channel)
    return calls


@pytest.fixture
def queued_tasks(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Tasks go to a queue (in memory) instead of running at once, whatever the tests'
    task mode; the returned function runs them one at a time in queue order, as a single
    worker would, until the queue is empty."""
    monkeypatch.setattr(HUEY, "storage", MemoryStorage("backlog-tests"))
    monkeypatch.setattr(HUEY, "_immediate", False)

    def work() -> None:
        while (task := HUEY.dequeue()) is not None:
            HUEY.execute(task)
    return work


def test_one_poll_takes_a_backlog_of_several_batches(
        imap_channel: Channel, mailbox: Mailbox, small_batches: None) -> None:
    fill(mailbox, BACKLOG)
    report = polling.poll_channel(imap_channel.pk)
    assert report is not None and not report.more
    assert [r.status for r in report.receipts] == [InboundStatus.PROCESSED] * BACKLOG
    assert tickets() == BACKLOG and unseen(mailbox) == 0
    assert MailboxState.objects.get(channel=imap_channel, folder="INBOX").last_uid == BACKLOG


def test_the_idle_watcher_takes_a_backlog_of_real_batches_within_seconds(
        imap_channel: Channel, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case with the real `BATCH`: the watcher's first fetch used to take one
    batch and idle, leaving the rest to the safety poll 15 minutes later."""
    count = 3 * imap.BATCH + 17
    fill(mailbox, count)
    monkeypatch.setattr(watcher, "TICK", 0.1)
    running = watcher.Watcher()
    try:
        started = time.monotonic()
        running.sync()
        watch = running.watches[imap_channel.pk]
        deadline = started + 60  # a shared 2-core machine; it takes a few seconds alone
        while watch.fetched < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        took = time.monotonic() - started
        assert tickets() == count, f"{tickets()} of {count} in {took:.1f} s"
        assert watch.wakes == 1  # one catch-up on connect, then IDLE: no poll waited for
        assert unseen(mailbox) == 0
        # And it is idling: a new mail still comes in within seconds.
        mailbox.server.deliver(mailbox.user, customer_mail(subject="depois"))
        while watch.fetched < 2 and time.monotonic() < deadline + 10:
            time.sleep(0.05)
        assert tickets() == count + 1
    finally:
        running.shutdown()


def test_the_watcher_polls_again_while_a_poll_says_more_is_waiting(
        imap_channel: Channel, mailbox: Mailbox, small_batches: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With no time budget each poll takes one batch: the watcher keeps polling (one
    catch-up) until nothing is left, before it idles."""
    fill(mailbox, BACKLOG)
    monkeypatch.setattr(imap, "BUDGET_SECONDS", 0)
    monkeypatch.setattr(watcher, "TICK", 0.1)
    polls = counting_polls(monkeypatch)
    monkeypatch.setattr(watcher, "poll_channel", polling.poll_channel)
    running = watcher.Watcher()
    try:
        running.sync()
        watch = running.watches[imap_channel.pk]
        deadline = time.monotonic() + 30
        while watch.fetched < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tickets() == BACKLOG and watch.wakes == 1
        assert len(polls) == -(-BACKLOG // SMALL_BATCH)  # one batch per poll
    finally:
        running.shutdown()


def test_the_periodic_poll_queues_itself_again_until_the_backlog_is_in(
        imap_channel: Channel, mailbox: Mailbox, small_batches: None,
        queued_tasks: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    fill(mailbox, BACKLOG)
    polls = counting_polls(monkeypatch)
    jobs.poll_email_mailboxes.call_local()
    queued_tasks()
    assert tickets() == BACKLOG and unseen(mailbox) == 0
    assert polls == [imap_channel.pk]  # within the budget: one poll
    monkeypatch.setattr(imap, "BUDGET_SECONDS", 0)
    fill(mailbox, BACKLOG, prefix="outro")
    polls.clear()
    MailboxState.objects.update(polled_at=None)  # due again
    jobs.poll_email_mailboxes.call_local()
    queued_tasks()
    assert tickets() == 2 * BACKLOG and unseen(mailbox) == 0
    assert len(polls) == -(-BACKLOG // SMALL_BATCH)


def test_a_backlog_does_not_keep_other_mailboxes_waiting(
        tenant: Tenant, dovecot_server: Any, small_batches: None,
        queued_tasks: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls past their budget go to the back of the queue: a mailbox with a backlog and
    a mailbox with one mail are polled in turn, not the first to its end."""
    boxes = [Mailbox(dovecot_server, f"{name}@example.com") for name in ("cheia", "vazia")]
    fill(boxes[0], BACKLOG)
    fill(boxes[1], 1)
    full, other = (make_email_channel(tenant, in_host=box.server.host,
                                      in_port=box.server.imap_port, in_security="none",
                                      in_username=box.user) for box in boxes)
    monkeypatch.setattr(imap, "BUDGET_SECONDS", 0)
    polls = counting_polls(monkeypatch)
    jobs.poll_email_mailboxes.call_local()
    queued_tasks()
    assert sorted(polls[:2]) == sorted([full.pk, other.pk]) and polls[2] == full.pk
    assert polls.count(other.pk) == 1 and polls.count(full.pk) == -(-BACKLOG // SMALL_BATCH)
    assert tickets() == BACKLOG + 1
    assert unseen(boxes[0]) == unseen(boxes[1]) == 0


def kill_at_third_commit(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """The third batch's transaction fails, as if the process died there; returns the real
    commit, to put back."""
    real = receive._commit
    commits: list[int] = []

    def commit(*args: Any) -> Any:
        commits.append(1)
        if len(commits) == 3:
            raise RuntimeError("killed")
        return real(*args)

    monkeypatch.setattr(receive, "_commit", commit)
    return real


def test_a_poll_stopped_mid_backlog_loses_and_duplicates_nothing(
        imap_channel: Channel, mailbox: Mailbox, small_batches: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The third batch's transaction fails; then the second batch's mails are marked
    unread again, as if the poll had died between their commit and the `\\Seen` flag."""
    fill(mailbox, BACKLOG)
    kill_at_third_commit(monkeypatch)
    with pytest.raises(RuntimeError):
        poll_imap(imap_channel)
    assert tickets() == 6 and unseen(mailbox) == BACKLOG - 6
    conn = mailbox.server.imap(mailbox.user)
    conn.select("INBOX")
    conn.uid("STORE", "4:6", "-FLAGS", "(\\Seen)")
    conn.logout()
    MailboxState.objects.filter(channel=imap_channel).update(last_uid=3)
    monkeypatch.undo()
    monkeypatch.setattr(imap, "BATCH", SMALL_BATCH)
    receipts = poll_imap(imap_channel).receipts
    assert [r.status for r in receipts[:3]] == [InboundStatus.DUPLICATE] * 3
    assert [r.status for r in receipts[3:]] == [InboundStatus.PROCESSED] * (BACKLOG - 6)
    assert tickets() == BACKLOG and Message.objects.count() == BACKLOG
    assert InboundEvent.objects.count() == BACKLOG and unseen(mailbox) == 0


def test_pop3_takes_a_backlog_in_one_session(tenant: Tenant, mailbox: Mailbox,
                                            small_batches: None) -> None:
    fill(mailbox, BACKLOG)
    channel = pop3_channel(tenant, mailbox, delete=True)
    report = polling.poll_channel(channel.pk)
    assert report is not None and not report.more and len(report.receipts) == BACKLOG
    assert tickets() == BACKLOG and mailbox.flags() == []


def test_pop3_periodic_poll_queues_itself_again_until_the_backlog_is_in(
        tenant: Tenant, mailbox: Mailbox, small_batches: None,
        queued_tasks: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    fill(mailbox, BACKLOG)
    channel = pop3_channel(tenant, mailbox, delete=False)
    monkeypatch.setattr(imap, "BUDGET_SECONDS", 0)
    polls = counting_polls(monkeypatch)
    jobs.poll_email_mailboxes.call_local()
    queued_tasks()
    assert tickets() == BACKLOG
    assert Pop3Seen.objects.filter(channel=channel).count() == BACKLOG
    assert len(polls) == -(-BACKLOG // SMALL_BATCH)
    assert len(mailbox.flags()) == BACKLOG  # kept on the server, as set


def test_pop3_session_stopped_mid_backlog_loses_and_duplicates_nothing(
        tenant: Tenant, mailbox: Mailbox, small_batches: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No QUIT: nothing was deleted; the next session deletes what was committed and takes
    the rest."""
    fill(mailbox, BACKLOG)
    channel = pop3_channel(tenant, mailbox, delete=True)
    real = kill_at_third_commit(monkeypatch)
    with pytest.raises(RuntimeError):
        poll_pop3(channel)
    assert tickets() == 6 and len(mailbox.flags()) == BACKLOG
    monkeypatch.setattr(receive, "_commit", real)
    assert len(poll_pop3(channel).receipts) == BACKLOG - 6
    assert tickets() == BACKLOG and Message.objects.count() == BACKLOG
    assert mailbox.flags() == []
