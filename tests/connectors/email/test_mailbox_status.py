"""The e-mail channel's mailbox status on the channel screens: live through IMAP IDLE (and
since when), polled at its interval (and when last checked), or failing (the error and
when), read from what the poller and the IDLE watcher record — with a real Dovecot behind
the poller and the watcher, and no mail-server call (and no query per channel) on page load."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atende.channels.models import Channel
from atende.connectors.email import leases, watcher
from atende.connectors.email.mailbox_status import (
    FAILING,
    IDLE_FAILING,
    INACTIVE,
    LIVE,
    POLLING,
    mailbox_status,
)
from atende.connectors.email.models import MailboxLease
from atende.connectors.email.polling import poll_channel
from tests.conftest import Tenant
from tests.connectors.email.conftest import Mailbox, customer_mail, make_email_channel

HOLDER = "mail-idle-test:1"


def edit_page(client: Client, channel: Channel) -> str:
    response = client.get(f"/settings/channels/{channel.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def log_page(client: Client, channel: Channel) -> str:
    response = client.get(f"/settings/channels/{channel.pk}/log/")
    assert response.status_code == 200
    return response.content.decode()


def idle_lease(channel: Channel, holder: str = HOLDER) -> None:
    assert leases.acquire(channel.organization_id, channel.pk, leases.IDLE, holder, 90)


@pytest.mark.django_db
def test_a_polled_mailbox_says_how_often_and_when_it_was_last_checked(
        admin_client: Client, imap_channel: Channel, mailbox: Mailbox) -> None:
    assert mailbox_status(imap_channel).state == POLLING
    assert "Not checked yet." in edit_page(admin_client, imap_channel)

    mailbox.append(customer_mail())
    assert poll_channel(imap_channel.pk) is not None
    status = mailbox_status(imap_channel)
    assert status.state == POLLING and status.checked_at is not None
    for page in (edit_page(admin_client, imap_channel), log_page(admin_client, imap_channel)):
        assert 'data-mailbox-status="polling"' in page
        assert "Polling every 1 minute." in page and "Last checked" in page


@pytest.mark.django_db
def test_a_failing_mailbox_shows_the_error_and_when(
        admin_client: Client, tenant: Tenant, imap_channel: Channel) -> None:
    imap_channel.secrets = {**imap_channel.secrets, "in_password": "not-the-password"}
    imap_channel.save()
    poll_channel(imap_channel.pk)  # a real login refused by Dovecot
    status = mailbox_status(imap_channel)
    assert status.state == FAILING and status.error and status.error_at is not None
    for page in (edit_page(admin_client, imap_channel), log_page(admin_client, imap_channel)):
        assert 'data-mailbox-status="failing"' in page
        assert "Reading the mailbox failed at" in page
    listing = admin_client.get("/settings/channels/").content.decode()
    assert "Mailbox error" in listing


@pytest.mark.django_db
def test_a_live_idle_watcher_shows_since_when_and_a_new_holder_starts_afresh(
        admin_client: Client, email_channel: Channel) -> None:
    idle_lease(email_channel)
    assert mailbox_status(email_channel).state == POLLING  # leased, not idling yet
    leases.report_idling(email_channel.pk, HOLDER)
    status = mailbox_status(email_channel)
    assert status.state == LIVE and status.live_since is not None
    assert "Live (IMAP IDLE) since" in edit_page(admin_client, email_channel)
    assert "Live (IMAP IDLE) since" in log_page(admin_client, email_channel)
    assert "IMAP IDLE" in admin_client.get("/settings/channels/").content.decode()

    idle_lease(email_channel)  # the holder's renewal keeps what it reported
    assert mailbox_status(email_channel).state == LIVE

    leases.report_error(email_channel.pk, HOLDER, "connection reset by peer")
    status = mailbox_status(email_channel)
    assert status.state == IDLE_FAILING and status.error == "connection reset by peer"
    page = edit_page(admin_client, email_channel)
    assert "The IMAP IDLE connection failed at" in page and "Polling every" in page

    leases.report_idling(email_channel.pk, HOLDER)
    # The watcher died: its lease expires, and the status falls back to polling...
    MailboxLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert mailbox_status(email_channel).state == POLLING
    # ...and whoever takes the lease over does not inherit the dead holder's report.
    idle_lease(email_channel, "another-machine:2")
    assert mailbox_status(email_channel).state == POLLING


@pytest.mark.django_db
def test_an_inactive_channel_says_its_mailbox_is_not_read(
        admin_client: Client, email_channel: Channel) -> None:
    idle_lease(email_channel)
    leases.report_idling(email_channel.pk, HOLDER)
    Channel.objects.filter(pk=email_channel.pk).update(is_active=False)
    email_channel.refresh_from_db()
    assert mailbox_status(email_channel).state == INACTIVE
    assert "Inactive: the mailbox is not read." in edit_page(admin_client, email_channel)


@pytest.mark.django_db
def test_the_channels_list_costs_no_query_per_channel(
        admin_client: Client, tenant: Tenant, other_tenant: Tenant) -> None:
    first = make_email_channel(tenant)
    idle_lease(first)
    leases.report_idling(first.pk, HOLDER)
    theirs = make_email_channel(other_tenant)  # another tenant's watcher: not shown here
    idle_lease(theirs, "theirs:1")
    leases.report_idling(theirs.pk, "theirs:1")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get("/settings/channels/").content.decode()
        assert page.count('data-mailbox-status="live"') == 1
        return len(captured)

    one = queries()
    for _n in range(3):
        make_email_channel(tenant)
    assert queries() == one
    page = admin_client.get("/settings/channels/").content.decode()
    assert page.count('data-mailbox-status="polling"') == 3


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> Iterator[watcher.Watcher]:
    monkeypatch.setattr(watcher, "TICK", 0.1)
    w = watcher.Watcher()
    yield w
    w.shutdown()


def wait_for(condition: Callable[[], object], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # SQLite's shared-cache test database: "table is locked"
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


@pytest.mark.django_db(transaction=True)
def test_the_real_watcher_reports_idle_then_its_errors(
        imap_channel: Channel, mailbox: Mailbox, running: watcher.Watcher) -> None:
    mailbox.append(customer_mail(subject="antes"))
    running.sync()
    wait_for(lambda: mailbox_status(imap_channel).state == LIVE)
    since = mailbox_status(imap_channel).live_since
    assert since is not None and since <= timezone.now()

    running.shutdown()  # the lease is given back: polling carries on
    wait_for(lambda: mailbox_status(imap_channel).state == POLLING)

    imap_channel.secrets = {**imap_channel.secrets, "in_password": "not-the-password"}
    imap_channel.save()
    running.sync()
    wait_for(lambda: mailbox_status(imap_channel).state in (IDLE_FAILING, FAILING))
    status = mailbox_status(imap_channel)
    assert status.error and status.error_at is not None
