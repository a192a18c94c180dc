"""The write side of the port (`publish` on commit) and the brokers' wake-ups, including
Redis being down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import transaction

from atende.realtime import publish as publish_module
from atende.realtime.brokers import OutboxBroker, RedisBroker
from atende.realtime.models import Event
from tests.conftest import Tenant, require_server
from tests.fakes.processes import REDIS_URL, free_port

Capture = Callable[..., Any]


class RecordingBroker(OutboxBroker):
    def __init__(self) -> None:
        super().__init__(poll_seconds=60)
        self.announced: list[int] = []

    def announce(self, event: Event) -> None:
        self.announced.append(event.pk)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingBroker:
    broker = RecordingBroker()
    monkeypatch.setattr(publish_module, "get_broker", lambda: broker)
    return broker


@pytest.mark.django_db
def test_publish_announces_only_after_commit(tenant: Tenant, recording: RecordingBroker,
                                             django_capture_on_commit_callbacks: Capture) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            event = publish_module.publish(tenant.org.pk, "ticket.updated", {"id": 1})
            assert Event.objects.filter(pk=event.pk).exists()  # in the outbox at once
            assert recording.announced == []
        assert recording.announced == []  # the outer (test) transaction has not committed
    assert recording.announced == [event.pk]


@pytest.mark.django_db
def test_a_rolled_back_publish_never_existed(tenant: Tenant, recording: RecordingBroker,
                                             django_capture_on_commit_callbacks: Capture) -> None:
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(ValueError),
          transaction.atomic()):
        publish_module.publish(tenant.org.pk, "ticket.updated", {"id": 1})
        raise ValueError("change failed")
    assert recording.announced == []
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_failing_announcement_does_not_fail_the_committed_change(
        tenant: Tenant, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Capture) -> None:
    class Exploding(OutboxBroker):
        def announce(self, event: Event) -> None:
            raise ConnectionError("broker down")

    monkeypatch.setattr(publish_module, "get_broker", lambda: Exploding(poll_seconds=60))
    with django_capture_on_commit_callbacks(execute=True):
        event = publish_module.publish(tenant.org.pk, "ticket.updated", {"id": 1})
    assert Event.objects.filter(pk=event.pk).exists()


def test_redis_announce_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    broker = RedisBroker(url=f"redis://127.0.0.1:{free_port()}/0", prefix="nowhere")
    broker.announce(Event(pk=41, organization_id=1, type="t", payload={}))
    assert "could not announce event 41" in caplog.text


def test_redis_wakeups_keep_coming_while_redis_is_down(caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    broker = RedisBroker(url=f"redis://127.0.0.1:{free_port()}/0", prefix="nowhere")
    broker.reconnect_seconds = 0.01

    async def three_wakeups() -> None:
        wakeups = broker.wakeups()
        for _ in range(3):
            await anext(wakeups)
        await wakeups.aclose()

    asyncio.run(asyncio.wait_for(three_wakeups(), timeout=30))
    assert caplog.text.count("Redis pub/sub unavailable") == 1  # once, not per retry


def test_redis_publish_wakes_the_subscribed_hub() -> None:
    parts = urlsplit(REDIS_URL)
    require_server("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)
    broker = RedisBroker(url=REDIS_URL, prefix=f"atende-test-{uuid.uuid4().hex[:8]}")
    broker.fallback_poll_seconds = 60  # so only the PUBLISH can wake it in time

    async def scenario() -> None:
        wakeups = broker.wakeups()
        await anext(wakeups)  # subscribed
        waiting = asyncio.create_task(anext(wakeups))
        await asyncio.sleep(0.2)
        # The subscribe confirmation may cost one early wake-up; the PUBLISH causes the next.
        if waiting.done():
            waiting = asyncio.create_task(anext(wakeups))
        assert not waiting.done()
        await asyncio.to_thread(broker.announce,
                                Event(pk=1, organization_id=1, type="t", payload={}))
        await asyncio.wait_for(waiting, timeout=5)
        await wakeups.aclose()

    asyncio.run(scenario())
