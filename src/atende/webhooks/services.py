"""Outbound webhooks: subscriptions, fan-out of events into deliveries, and attempts.

Guarantees: deliveries are rows created in the transaction of the change they describe and
are attempted only after it commits, never inside the request. Each attempt is claimed
with a lease, so the task and the periodic sweeper never send the same delivery twice at
once. A delivery is retried with exponential backoff until WEBHOOK_RETRY_WINDOW_SECONDS
after its creation: by a task deferred to the retry time, and by the periodic sweeper
(jobs.retry_overdue_webhooks) for anything overdue. With immediate tasks (tests,
development) only the sweeper retries, so an attempt never triggers another one at once.
Delivery is at least once; the delivery id (X-Atende-Delivery) lets receivers deduplicate.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from atende.backoff import next_delay
from atende.net import BlockedDestination, check_url, failure_text, post_json, status_text
from atende.webhooks.models import (
    DeliveryState,
    EventType,
    WebhookDelivery,
    WebhookSubscription,
    new_signing_secret,
)
from atende.webhooks.signing import signed_headers
from atende.webhooks.subscription_memo import active_subscriptions

logger = logging.getLogger(__name__)
# How long an attempt owns a delivery; past it, the sweeper may try again (the worker died).
# Well above WEBHOOK_TIMEOUT_SECONDS.
LEASE = timedelta(seconds=120)
RETRY_TASK_SLACK = timedelta(seconds=1)


def create_subscription(
    organization_id: int, url: str, events: list[str], description: str = ""
) -> tuple[WebhookSubscription, str]:
    """Returns the subscription and its signing secret (shown to the user). Raises
    BlockedDestination for a URL the SSRF guard refuses (malformed, or not public)."""
    unknown = set(events) - set(EventType.values)
    if unknown:
        raise ValueError(f"unknown events: {sorted(unknown)}")
    check_url(url)  # and again on the address each delivery dials
    secret = new_signing_secret()
    sub = WebhookSubscription(organization_id=organization_id, url=url, events=sorted(set(events)),
                              description=description)
    sub.secret = secret
    sub.save()
    return sub, secret


def fan_out(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    """Create one delivery per active subscription to `event_type`; attempt after commit."""
    sub_ids = [pk for pk, events in active_subscriptions(organization_id) if event_type in events]
    if not sub_ids:
        return
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(organization_id=organization_id, subscription_id=pk,
                        event_type=event_type, payload=payload)
        for pk in sub_ids
    )
    from atende.webhooks.tasks import deliver_webhook

    for d in deliveries:
        if d.pk is None:  # backends without RETURNING on bulk insert
            continue
        deliver_webhook.enqueue(d.pk)


def fan_out_many(organization_id: int, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """`fan_out` for several events in order, with one INSERT (batched ingest)."""
    subs = active_subscriptions(organization_id)
    if not subs:
        return
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(organization_id=organization_id, subscription_id=pk,
                        event_type=event_type, payload=payload)
        for event_type, payload in events for pk, types in subs if event_type in types
    )
    from atende.webhooks.tasks import deliver_webhook

    for d in deliveries:
        if d.pk is not None:  # backends without RETURNING on bulk insert
            deliver_webhook.enqueue(d.pk)


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.RETRYING),
        pk=delivery_id, next_attempt_at__lte=now,
    ).update(next_attempt_at=now + LEASE)
    return claimed == 1


def body_for(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.delivery_id),
        "type": delivery.event_type,
        "created_at": delivery.created_at.isoformat(),
        "organization_id": delivery.organization_id,
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def tasks_run_immediately() -> bool:
    """True when the task backend runs tasks as they are enqueued (tests, development)."""
    return bool(getattr(settings, "HUEY", {}).get("immediate", False))


def _send(delivery: WebhookDelivery, sub: WebhookSubscription) -> tuple[int | None, str]:
    """POST the signed delivery; returns (status code, error text — empty on success)."""
    if not sub.is_active:
        return None, "subscription is inactive"
    body = body_for(delivery)
    try:
        headers = signed_headers(sub.secret, body, str(delivery.delivery_id),
                                 delivery.event_type)
        response = post_json(sub.url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
    except BlockedDestination as exc:
        return None, str(exc)
    except httpx.HTTPError as exc:
        return None, failure_text(exc)
    except Exception as exc:
        # Anything else (a malformed URL, an undecryptable secret) must still count as an
        # attempt: a delivery left claimed and uncounted would be retried for ever.
        logger.exception("webhook %s: unexpected error while sending", delivery.delivery_id)
        return None, f"{type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, status_text(response)  # never the body: see status_text


def attempt_delivery(delivery_id: int) -> DeliveryState | None:
    """Send one delivery now if it is due and not being sent elsewhere; schedule the retry.

    Returns the delivery's new state, or None when there was nothing to do (not due, claimed
    by another worker, or already finished). Never raises for the receiver's failures.
    """
    if not _claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    sub = delivery.subscription
    status_code, error = _send(delivery, sub)

    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error
    if not error:
        delivery.state = DeliveryState.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = now
    else:
        retry_at = now + next_delay(delivery.attempts)
        window_end = delivery.created_at + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
        if retry_at > window_end or not sub.is_active:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = now
        else:
            delivery.state = DeliveryState.RETRYING
            delivery.next_attempt_at = retry_at
    delivery.save(update_fields=["attempts", "last_status_code", "last_error", "state",
                                 "delivered_at", "next_attempt_at"])
    if delivery.state == DeliveryState.RETRYING:
        logger.info("webhook %s failed (%s); retry at %s", delivery.delivery_id, error,
                    delivery.next_attempt_at)
        _schedule_retry(delivery)
    return DeliveryState(delivery.state)


def _schedule_retry(delivery: WebhookDelivery) -> None:
    """A task deferred to the retry time; the periodic sweeper is the safety net.

    Not with immediate tasks: the backend would park the deferred task in an in-memory
    schedule that nothing reads, so there the sweeper alone retries (deterministically).
    """
    if tasks_run_immediately():
        return
    from atende.webhooks.tasks import deliver_webhook

    # A second late, so a worker whose clock is slightly behind still finds it due.
    run_after = delivery.next_attempt_at + RETRY_TASK_SLACK
    try:
        deliver_webhook.using(run_after=run_after).enqueue(delivery.pk)
    except Exception:
        logger.warning("webhook %s: could not schedule the retry; the sweeper will send it",
                       delivery.delivery_id, exc_info=True)


def due_delivery_ids(limit: int = 500) -> list[int]:
    """Deliveries whose attempt is overdue (a worker died, a task was lost)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING], next_attempt_at__lte=now
        ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


def redeliver(delivery: WebhookDelivery) -> bool:
    """Attempt a delivery that has not succeeded again, now (the delivery log's "try again").

    Returns False when it has succeeded meanwhile (nothing is sent twice on purpose). Past
    the retry window a redelivery gets one attempt. Deliveries are at least once: an attempt
    already in flight may land as well; receivers deduplicate by X-Atende-Delivery.
    """
    from atende.webhooks.tasks import deliver_webhook

    with transaction.atomic():
        # Conditional, so a success that lands meanwhile is never reset to pending.
        reset = WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
            state=DeliveryState.SUCCEEDED
        ).update(state=DeliveryState.PENDING, next_attempt_at=timezone.now())
        if reset:
            deliver_webhook.enqueue(delivery.pk)
    return bool(reset)
