"""Outbound webhooks: subscriptions, fan-out of events into deliveries, and attempts.

Guarantees: deliveries are rows created in the transaction of the change they describe and
are attempted only after it commits, never inside the request. Each attempt is claimed
with a lease, so the task and the periodic sweeper never send the same delivery twice at
once. A delivery is retried with exponential backoff until WEBHOOK_RETRY_WINDOW_SECONDS
after its creation.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from atende.net import BlockedDestination, post_json
from atende.webhooks.backoff import next_delay
from atende.webhooks.models import (
    DeliveryState,
    EventType,
    WebhookDelivery,
    WebhookSubscription,
    new_signing_secret,
)
from atende.webhooks.signing import signed_headers

logger = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)


def create_subscription(
    organization_id: int, url: str, events: list[str], description: str = ""
) -> tuple[WebhookSubscription, str]:
    """Returns the subscription and its signing secret (shown to the user)."""
    unknown = set(events) - set(EventType.values)
    if unknown:
        raise ValueError(f"unknown events: {sorted(unknown)}")
    secret = new_signing_secret()
    sub = WebhookSubscription(organization_id=organization_id, url=url, events=sorted(set(events)),
                              description=description)
    sub.secret = secret
    sub.save()
    return sub, secret


def fan_out(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    """Create one delivery per active subscription to `event_type`; attempt after commit."""
    subs = [
        s for s in WebhookSubscription.objects.for_org(organization_id).filter(is_active=True)
        if event_type in s.events
    ]
    if not subs:
        return
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(organization_id=organization_id, subscription=s, event_type=event_type,
                        payload=payload)
        for s in subs
    )
    from atende.webhooks.tasks import deliver_webhook

    for d in deliveries:
        if d.pk is None:  # backends without RETURNING on bulk insert
            continue
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


def attempt_delivery(delivery_id: int) -> DeliveryState | None:
    """Send one delivery now if it is due and not being sent elsewhere; schedule the retry."""
    if not _claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    sub = delivery.subscription
    body = body_for(delivery)
    headers = signed_headers(sub.secret, body, str(delivery.delivery_id), delivery.event_type)
    status_code: int | None = None
    error = ""
    try:
        response = post_json(sub.url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {response.text[:500]}"
    except BlockedDestination as exc:
        error = str(exc)
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"

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
        from atende.webhooks.tasks import deliver_webhook

        deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
        logger.info("webhook %s failed (%s); retry at %s", delivery.delivery_id, error,
                    delivery.next_attempt_at)
    return DeliveryState(delivery.state)


def due_delivery_ids(limit: int = 500) -> list[int]:
    """Deliveries whose attempt is overdue (a worker died, a task was lost)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING], next_attempt_at__lte=now
        ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def redeliver(delivery: WebhookDelivery) -> None:
    """Try a failed delivery again (from the delivery log)."""
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["state", "next_attempt_at"])
    from atende.webhooks.tasks import deliver_webhook

    deliver_webhook.enqueue(delivery.pk)
