"""No event is left pending: the periodic sweep (`stalled.py`) asks again for the drain a
crashed worker lost, and for the delayed retry that never came."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.whatsapp import receive, stalled, tasks
from tests.connectors.whatsapp.test_drain import Recorder, store
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, settings: Any, wa_channel: Channel) -> Recorder:
    """Drains requested but held back (the worker that took them crashed); a shared flag
    per channel, as with Redis; one shard."""
    settings.WHATSAPP_DRAIN_SHARDS = 1
    monkeypatch.setattr(receive, "_shared_cache", lambda: True)
    cache.delete(receive._drain_flag(wa_channel.pk))
    recorder = Recorder()
    monkeypatch.setattr(tasks, "drain_whatsapp_channel", recorder)
    return recorder


def test_events_a_lost_drain_left_behind_are_drained_again(
        wa: FakeDialog360, wa_channel: Channel, queued: Recorder,
        django_capture_on_commit_callbacks: Any) -> None:
    [lost] = store(wa_channel, wa.customer_sends("5511987654301", "oi"),
                   django_capture_on_commit_callbacks)
    assert queued.calls == [(wa_channel.pk, [lost])]  # ... and the worker crashed
    cache.delete(receive._drain_flag(wa_channel.pk))  # its flag expired meanwhile
    now = timezone.now()
    assert stalled.drain_stalled_channels(now) == []  # too recent to be stalled
    later = now + stalled.STALE_AFTER + timedelta(seconds=1)
    assert stalled.drain_stalled_channels(later) == [wa_channel.pk]
    assert queued.calls[1:] == [(wa_channel.pk, [])]

    assert receive.drain_channel(*queued.calls[1]) == 1
    assert InboundEvent.objects.get(pk=lost).status == InboundStatus.PROCESSED
    assert stalled.stalled_channel_ids(later) == []


def test_the_sweep_leaves_drains_at_work_and_events_waiting_for_their_retry(
        wa: FakeDialog360, wa_channel: Channel, queued: Recorder, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any) -> None:
    [waiting] = store(wa_channel, wa.customer_sends("5511987654301", "foto"),
                      django_capture_on_commit_callbacks)
    InboundEvent.objects.filter(pk=waiting).update(error="media download: 503")
    [pending] = store(wa_channel, wa.customer_sends("5511987654302", "oi"),
                      django_capture_on_commit_callbacks)
    cache.delete(receive._drain_flag(wa_channel.pk))
    later = timezone.now() + stalled.STALE_AFTER + timedelta(seconds=1)
    receive._mark_running(wa_channel.pk, 0, 1)  # a drain is working through a backlog
    calls = len(queued.calls)
    assert stalled.drain_stalled_channels(later) == [wa_channel.pk]
    assert len(queued.calls) == calls  # not a second drain beside it

    # Only the waiting event left: not stalled, its retry is due...
    receive._mark_running(wa_channel.pk, 0, 1, running=False)
    receive.drain_channel(wa_channel.pk)
    assert InboundEvent.objects.get(pk=pending).status == InboundStatus.PROCESSED
    assert stalled.stalled_channel_ids(later) == []
    # ... unless it never came: the last attempt is queued, once.
    retries = Recorder()
    monkeypatch.setattr(tasks, "process_whatsapp_event", retries)
    assert stalled.retry_lost_retries(later) == []
    much_later = timezone.now() + stalled.RETRY_LOST_AFTER + timedelta(seconds=1)
    assert stalled.retry_lost_retries(much_later) == [waiting]
    assert stalled.retry_lost_retries(much_later) == []
    assert retries.calls == [(waiting, receive.MAX_ATTEMPTS - 1)]
    receive.process_event(*retries.calls[0])  # the last attempt stores what it can
    assert InboundEvent.objects.get(pk=waiting).status == InboundStatus.PROCESSED


def test_the_pending_events_lookups_read_only_a_channels_pending_rows(
        wa_channel: Channel) -> None:
    """The drain's batch and the sweep's "oldest still to process" find a channel's pending
    events through an index on their status (the index by channel, status and time), not by
    reading the channel's whole history."""
    from django.db import connection
    from django.db.models import OuterRef, Subquery

    if connection.vendor != "postgresql":
        pytest.skip("the plan of PostgreSQL")
    org = wa_channel.organization_id
    InboundEvent.objects.bulk_create(
        [InboundEvent(organization_id=org, channel=wa_channel, provider_id=f"done-{n}",
                      payload={}, status=InboundStatus.PROCESSED) for n in range(3000)]
        + [InboundEvent(organization_id=org, channel=wa_channel, provider_id=f"new-{n}",
                        payload={}) for n in range(3)])
    drain = InboundEvent.objects.filter(
        channel=wa_channel, status=InboundStatus.RECEIVED, error="",
    ).order_by("pk").values("pk")[:500]
    oldest = InboundEvent.objects.filter(
        channel=OuterRef("pk"), status=InboundStatus.RECEIVED, error="",
    ).order_by("received_at").values("received_at")[:1]
    sweep = Channel.objects.filter(pk=wa_channel.pk).annotate(oldest=Subquery(oldest))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {InboundEvent._meta.db_table}")
        for query in (drain, sweep):
            sql, params = query.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert any("Cond:" in line and "status" in line for line in plan.splitlines()), plan
