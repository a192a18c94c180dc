"""Processing drains a channel: a burst of webhook bodies is one task (a shared flag per
channel), and the drain ingests every pending event of the channel together."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.whatsapp import receive, tasks
from atende.tickets.models import Message, Ticket
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def enqueue(self, *args: Any) -> None:
        self.calls.append(args)


def store(channel: Channel, body: Any, capture: Any) -> list[int]:
    with capture(execute=True):
        return receive.store_events(channel, body)


def test_a_burst_of_bodies_enqueues_one_drain_that_takes_them_all(
        wa: FakeDialog360, wa_channel: Channel, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any, settings: Any) -> None:
    settings.WHATSAPP_DRAIN_SHARDS = 1  # one drain per channel (test_shards: several)
    monkeypatch.setattr(receive, "_shared_cache", lambda: True)  # as with Redis
    cache.delete(receive._drain_flag(wa_channel.pk))
    queued = Recorder()
    monkeypatch.setattr(tasks, "drain_whatsapp_channel", queued)  # hold the task back
    ids = [store(wa_channel, wa.customer_sends(f"55119876543{n:02d}", f"oi {n}"),
                 django_capture_on_commit_callbacks)[0] for n in range(3)]
    ids += store(wa_channel, wa.customer_sends("5511987654300", "de novo"),
                 django_capture_on_commit_callbacks)
    assert queued.calls == [(wa_channel.pk, [ids[0]])]  # one drain for the four bodies

    assert receive.drain_channel(*queued.calls[0]) == 4
    events = InboundEvent.objects.filter(pk__in=ids).order_by("pk")
    assert [e.status for e in events] == [InboundStatus.PROCESSED] * 4
    assert all(e.message_id is not None and e.processed_at for e in events)
    assert Ticket.objects.filter(channel=wa_channel).count() == 3
    first = Message.objects.get(pk=events[0].message_id)
    assert Message.objects.get(pk=events[3].message_id).ticket_id == first.ticket_id

    # The drain cleared the flag before reading: the next body enqueues the next drain.
    later = store(wa_channel, wa.customer_sends("5511987654399", "outro"),
                  django_capture_on_commit_callbacks)
    assert queued.calls[1] == (wa_channel.pk, later)


def test_the_embedded_profile_enqueues_a_drain_per_body(
        wa: FakeDialog360, wa_channel: Channel, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any) -> None:
    monkeypatch.setattr(receive, "_shared_cache", lambda: False)  # per-process LocMem
    queued = Recorder()
    monkeypatch.setattr(tasks, "drain_whatsapp_channel", queued)
    for n in range(2):
        store(wa_channel, wa.customer_sends(f"55119876543{n:02d}", "oi"),
              django_capture_on_commit_callbacks)
    assert len(queued.calls) == 2


def test_a_drain_leaves_events_waiting_for_their_retry_and_quarantines_bad_ones(
        wa: FakeDialog360, wa_channel: Channel, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any) -> None:
    monkeypatch.setattr(tasks, "drain_whatsapp_channel", Recorder())
    [waiting] = store(wa_channel, wa.customer_sends("5511987654301", "foto"),
                      django_capture_on_commit_callbacks)
    InboundEvent.objects.filter(pk=waiting).update(error="media download: 503")
    [bad] = store(wa_channel, wa.customer_sends("12", "número impossível"),
                  django_capture_on_commit_callbacks)
    [good] = store(wa_channel, wa.customer_sends("5511987654302", "oi"),
                   django_capture_on_commit_callbacks)
    assert receive.drain_channel(wa_channel.pk) == 2
    statuses = dict(InboundEvent.objects.filter(channel=wa_channel)
                    .values_list("pk", "status"))
    assert statuses == {waiting: InboundStatus.RECEIVED, bad: InboundStatus.QUARANTINED,
                        good: InboundStatus.PROCESSED}
    assert "ValidationError" in InboundEvent.objects.get(pk=bad).error
