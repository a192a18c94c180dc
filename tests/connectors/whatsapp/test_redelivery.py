"""A quarantined event the provider delivers again is processed again (a quarantine from a
passing failure heals by itself), at most MAX_REDELIVERY_RETRIES times (a bad one stays
put), also while a drain of the channel is queued."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.whatsapp import receive, tasks
from atende.tickets.models import Message
from tests.connectors.whatsapp.test_drain import Recorder, store
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


def quarantine(event_id: int, error: str = "OperationalError: the server closed the "
               "connection unexpectedly") -> None:
    """What a passing failure during processing left (as `receive._quarantine`)."""
    InboundEvent.objects.filter(pk=event_id).update(
        status=InboundStatus.QUARANTINED, error=error, processed_at=timezone.now())


def test_a_redelivered_quarantined_event_is_taken_by_the_drain_already_queued(
        wa: FakeDialog360, wa_channel: Channel, monkeypatch: pytest.MonkeyPatch, settings: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    settings.WHATSAPP_DRAIN_SHARDS = 1
    monkeypatch.setattr(receive, "_shared_cache", lambda: True)  # as with Redis
    cache.delete(receive._drain_flag(wa_channel.pk))
    queued = Recorder()
    monkeypatch.setattr(tasks, "drain_whatsapp_channel", queued)
    first = wa.customer_sends("5511987654301", "primeira")
    [failed] = store(wa_channel, first, django_capture_on_commit_callbacks)
    queued.calls.pop()
    cache.delete(receive._drain_flag(wa_channel.pk))  # its drain started ...
    quarantine(failed)  # ... and failed on it
    # Another customer's message: a drain is queued (held back here) ...
    [other] = store(wa_channel, wa.customer_sends("5511987654302", "outra"),
                    django_capture_on_commit_callbacks)
    # ... when the provider delivers the quarantined event again: no second drain.
    assert store(wa_channel, first, django_capture_on_commit_callbacks) == [failed]
    assert queued.calls == [(wa_channel.pk, [other])]

    assert receive.drain_channel(*queued.calls[0]) == 2  # the queued drain takes both
    event = InboundEvent.objects.get(pk=failed)
    assert (event.status, event.error, event.redelivery_retries) == (
        InboundStatus.PROCESSED, "", 1)
    assert Message.objects.get(pk=event.message_id).text == "primeira"


def test_a_bad_event_is_retried_on_redelivery_a_bounded_number_of_times(
        wa: FakeDialog360, wa_channel: Channel, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any) -> None:
    monkeypatch.setattr(receive, "_shared_cache", lambda: False)  # a drain per body
    queued = Recorder()
    monkeypatch.setattr(tasks, "drain_whatsapp_channel", queued)
    body = wa.customer_sends("12", "número impossível")
    [bad] = store(wa_channel, body, django_capture_on_commit_callbacks)
    for redelivery in range(1, receive.MAX_REDELIVERY_RETRIES + 2):
        receive.drain_channel(*queued.calls.pop())
        event = InboundEvent.objects.get(pk=bad)
        assert event.status == InboundStatus.QUARANTINED
        assert "ValidationError" in event.error
        ids = store(wa_channel, body, django_capture_on_commit_callbacks)
        if redelivery <= receive.MAX_REDELIVERY_RETRIES:
            assert ids == [bad]
            assert InboundEvent.objects.get(pk=bad).redelivery_retries == redelivery
    assert ids == [] and not queued.calls  # the last redelivery leaves it quarantined
    event = InboundEvent.objects.get(pk=bad)
    assert (event.status, event.redelivery_retries) == (
        InboundStatus.QUARANTINED, receive.MAX_REDELIVERY_RETRIES)
    assert "ValidationError" in event.error
