"""Outbound webhook deliveries against a real HTTP receiver: signed, sent after commit,
retried with backoff, failed after the retry window, swept when their task was lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from atende import jobs
from atende.events import emit
from atende.webhooks import services
from atende.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription
from atende.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)
from tests.conftest import Tenant
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.processes import free_port
from tests.webhooks.conftest import make_due, open_ticket, subscribe

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


def only_delivery() -> WebhookDelivery:
    [delivery] = WebhookDelivery.objects.all()
    return delivery


def test_ticket_created_via_api_is_delivered_signed(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    sub = subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(tenant.client)

    [request] = receiver.requests  # message.created was not subscribed to
    delivery = only_delivery()
    assert request.method == "POST"
    assert request.header("Content-Type") == "application/json"
    assert request.header(DELIVERY_HEADER) == str(delivery.delivery_id)
    assert request.header(EVENT_HEADER) == "ticket.created"
    assert verify(sub["secret"], request.body, request.header(SIGNATURE_HEADER),
                  request.header(TIMESTAMP_HEADER))
    assert not verify("whsec_wrong", request.body, request.header(SIGNATURE_HEADER),
                      request.header(TIMESTAMP_HEADER))
    body = request.json()
    assert body["id"] == str(delivery.delivery_id)
    assert body["type"] == "ticket.created"
    assert body["organization_id"] == tenant.org.pk
    assert body["data"]["id"] == ticket["id"]
    assert body["data"]["title"] == ticket["title"]
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.SUCCEEDED, 1, 200)
    assert delivery.delivered_at is not None


def test_signature_does_not_verify_a_tampered_body(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    sub = subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    [request] = receiver.requests
    tampered = request.body.replace(b"Impressora", b"Impressxra")
    assert not verify(sub["secret"], tampered, request.header(SIGNATURE_HEADER),
                      request.header(TIMESTAMP_HEADER))
    stale = str(int(request.header(TIMESTAMP_HEADER)) - 3600)
    assert not verify(sub["secret"], request.body, request.header(SIGNATURE_HEADER), stale)


def test_delivery_is_not_sent_inside_the_request(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        open_ticket(tenant.client)
    # The request has returned; its transaction's callbacks (the task) have not run yet.
    assert receiver.requests == []
    delivery = only_delivery()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)

    for callback in callbacks:
        callback()
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED


def test_a_rolled_back_change_sends_nothing(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    from django.db import transaction

    subscribe(tenant.client, receiver.url, ["ticket.updated"])
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        emit(tenant.org.pk, "ticket.updated", {"id": 1})
        raise RuntimeError("the change failed")
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_unsubscribed_event_types_produce_no_delivery(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, receiver.url, ["ticket.status_changed"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)  # emits ticket.created and message.created
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_inactive_subscriptions_get_no_new_deliveries(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    sub = subscribe(tenant.client, receiver.url, ["ticket.created"])
    WebhookSubscription.objects.filter(pk=sub["id"]).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    assert not WebhookDelivery.objects.exists()


def test_each_subscription_gets_its_own_delivery(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    subscribe(tenant.client, receiver.url, ["ticket.created", "message.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    events = sorted(r.header(EVENT_HEADER) for r in receiver.requests)
    assert events == ["message.created", "ticket.created", "ticket.created"]
    assert len({r.header(DELIVERY_HEADER) for r in receiver.requests}) == 3


def test_500_then_200_is_retried_then_succeeds(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    receiver.respond_with(500)
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)

    delivery = only_delivery()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.RETRYING, 1, 500)
    assert "HTTP 500" in delivery.last_error
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=5) < wait < timedelta(seconds=12)  # 10 s ± jitter
    assert len(receiver.requests) == 1  # nothing else happened in the meantime

    make_due(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.attempt_delivery(delivery.pk) == DeliveryState.SUCCEEDED
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.SUCCEEDED, 2, 200)
    assert delivery.last_error == ""
    first, second = receiver.requests
    assert first.header(DELIVERY_HEADER) == second.header(DELIVERY_HEADER)
    assert first.body == second.body


def test_a_receiver_failing_past_the_retry_window_fails_the_delivery(
        tenant: Tenant, receiver: HttpReceiver, settings: Any,
        django_capture_on_commit_callbacks: Capture) -> None:
    # 15 s: the first retry (10 s ± 10 %) fits in the window, the second (20 s) does not.
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 15
    receiver.default = (503, {"error": "down"})
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    delivery = only_delivery()
    assert (delivery.state, delivery.attempts) == (DeliveryState.RETRYING, 1)

    make_due(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.attempt_delivery(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.FAILED, 2, 503)
    assert services.due_delivery_ids() == []
    assert services.attempt_delivery(delivery.pk) is None  # a failed delivery stays failed
    assert len(receiver.requests) == 2


def test_an_unreachable_receiver_is_a_failed_attempt(
        tenant: Tenant, django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, f"http://127.0.0.1:{free_port()}/hook", ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    delivery = only_delivery()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.RETRYING, 1, None)
    assert "ConnectError" in delivery.last_error


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    receiver.respond_with(302)
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    assert only_delivery().state == DeliveryState.RETRYING
    assert len(receiver.requests) == 1


def test_an_unexpected_error_while_sending_is_a_failed_attempt(
        tenant: Tenant, receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Capture) -> None:
    """Not left claimed with its attempt uncounted (it would be retried for ever)."""

    def broken(*args: Any, **kwargs: Any) -> httpx.Response:
        raise httpx.InvalidURL("bad url")  # not an httpx.HTTPError

    monkeypatch.setattr(services, "post_json", broken)
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    delivery = only_delivery()
    assert (delivery.state, delivery.attempts) == (DeliveryState.RETRYING, 1)
    assert "InvalidURL" in delivery.last_error


def test_a_delivery_being_sent_elsewhere_is_not_sent_twice(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=False):
        open_ticket(tenant.client)
    delivery = only_delivery()
    assert services._claim(delivery.pk)  # a worker holds the lease
    assert services.attempt_delivery(delivery.pk) is None
    jobs.retry_overdue_webhooks.call_local()
    assert receiver.requests == []


def test_sweeper_sends_deliveries_whose_task_was_lost(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=False):  # the task never runs
        open_ticket(tenant.client)
    delivery = only_delivery()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.retry_overdue_webhooks.call_local()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 1)
    assert len(receiver.requests) == 1


def test_sweeper_retries_overdue_retries_and_leaves_future_ones(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    receiver.respond_with(500, 500)
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
        open_ticket(tenant.client)
    due, later = WebhookDelivery.objects.order_by("id")
    assert due.state == later.state == DeliveryState.RETRYING
    make_due(due)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.retry_overdue_webhooks.call_local()
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.state, due.attempts) == (DeliveryState.SUCCEEDED, 2)
    assert (later.state, later.attempts) == (DeliveryState.RETRYING, 1)
    assert len(receiver.requests) == 3


def test_retries_in_immediate_mode_wait_for_the_sweeper(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    """With tasks run immediately (tests, development) a failed attempt must neither be
    retried at once nor parked in an in-memory schedule nobody reads: the retry is the
    sweeper's, once due."""
    from huey.contrib.djhuey import HUEY

    receiver.default = (500, {})
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    scheduled_before = HUEY.scheduled_count()
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    assert len(receiver.requests) == 1
    assert HUEY.scheduled_count() == scheduled_before
    assert only_delivery().state == DeliveryState.RETRYING


def test_retry_task_is_scheduled_for_the_backoff_time_when_queued(
        tenant: Tenant, receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Capture) -> None:
    """With a real queue the retry is a task deferred to next_attempt_at."""
    from atende.webhooks import tasks

    deferred: list[tuple[Any, int]] = []

    class DeferredTask:
        def __init__(self, run_after: Any = None) -> None:
            self.run_after = run_after

        def using(self, *, run_after: Any) -> DeferredTask:
            return DeferredTask(run_after)

        def enqueue(self, delivery_id: int) -> None:
            if self.run_after is None:  # the first attempt: run it now
                services.attempt_delivery(delivery_id)
            else:
                deferred.append((self.run_after, delivery_id))

    monkeypatch.setattr(services, "tasks_run_immediately", lambda: False)
    monkeypatch.setattr(tasks, "deliver_webhook", DeferredTask())
    receiver.respond_with(500)
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    delivery = only_delivery()
    assert deferred == [(delivery.next_attempt_at + services.RETRY_TASK_SLACK, delivery.pk)]


def test_body_is_compact_sorted_json(tenant: Tenant, receiver: HttpReceiver,
                                     django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, receiver.url, ["ticket.updated"])
    with django_capture_on_commit_callbacks(execute=True):
        emit(tenant.org.pk, "ticket.updated", {"b": 1, "a": "ç"})
    [request] = receiver.requests
    body = request.json()
    assert body["data"] == {"a": "ç", "b": 1}
    assert request.body == json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def test_a_redelivery_racing_a_success_leaves_it_delivered(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    receiver.respond_with(500)
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    stale = only_delivery()  # read by the API as "retrying"…
    make_due(stale)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.retry_overdue_webhooks.call_local()  # …while the retry succeeds
    with django_capture_on_commit_callbacks(execute=True):
        assert services.redeliver(stale) is False
    delivery = only_delivery()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 2)
    assert len(receiver.requests) == 2


def test_a_subscription_disabled_before_the_attempt_gets_nothing(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    sub = subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=False):
        open_ticket(tenant.client)
    WebhookSubscription.objects.filter(pk=sub["id"]).update(is_active=False)
    assert services.attempt_delivery(only_delivery().pk) == DeliveryState.FAILED
    assert receiver.requests == []
    assert only_delivery().last_error == "subscription is inactive"
