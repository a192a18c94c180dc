"""REST endpoints for webhook subscriptions and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from atende.api_errors import ApiError, ErrorOut
from atende.net import BlockedDestination
from atende.tenancy.api_auth import org_key
from atende.tenancy.models import Permission
from atende.webhooks import services
from atende.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription

router = Router(tags=["webhooks"])
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   429: ErrorOut}
EventName = Literal["ticket.created", "ticket.updated", "ticket.status_changed",
                    "ticket.answer_reminder", "ticket.sla_breached", "message.created",
                    "message.status_changed", "channel.updated", "agent.updated",
                    "contact.updated", "contact.merged", "csat.received"]

class SubscriptionIn(Schema):
    url: str = Field(min_length=8, max_length=1000, pattern=r"^https?://")
    events: list[EventName] = Field(min_length=1)
    description: str = Field(default="", max_length=200)

class SubscriptionOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    is_active: bool
    created_at: datetime

class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="The signing secret; shown only in this response.")

class DeliveryOut(Schema):
    id: int
    delivery_id: str
    event_type: str
    state: Literal["pending", "succeeded", "retrying", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None

def _sub_out(sub: WebhookSubscription) -> dict[str, Any]:
    return {"id": sub.pk, "url": sub.url, "events": sub.events, "description": sub.description,
            "is_active": sub.is_active, "created_at": sub.created_at}

def _delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {"id": d.pk, "delivery_id": str(d.delivery_id), "event_type": d.event_type,
            "state": d.state, "attempts": d.attempts, "last_status_code": d.last_status_code,
            "last_error": d.last_error, "next_attempt_at": d.next_attempt_at,
            "created_at": d.created_at, "delivered_at": d.delivered_at}

@router.post("/webhooks", response={201: SubscriptionCreatedOut, **ERRORS},
             summary="Subscribe a URL to events")
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Status[Any]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    try:
        sub, secret = services.create_subscription(key.organization_id, payload.url,
                                                   list(payload.events), payload.description)
    except BlockedDestination as exc:
        raise ApiError(400, "invalid", _("This address cannot receive webhooks: %(reason)s")
                       % {"reason": exc}, "url") from exc
    return Status(201, {**_sub_out(sub), "secret": secret})

@router.get("/webhooks", response={200: list[SubscriptionOut], **ERRORS},
            summary="List webhook subscriptions")
def list_subscriptions(request: HttpRequest) -> list[dict[str, Any]]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    return [_sub_out(s) for s in
            WebhookSubscription.objects.for_org(key.organization_id).order_by("id")]

@router.delete("/webhooks/{subscription_id}", response={204: None, **ERRORS},
               summary="Delete a subscription")
def delete_subscription(request: HttpRequest, subscription_id: int) -> Status[None]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    WebhookSubscription.objects.for_org(key.organization_id).get(pk=subscription_id).delete()
    return Status(204, None)

@router.get("/webhooks/{subscription_id}/deliveries", response={200: list[DeliveryOut], **ERRORS},
            summary="The delivery log of a subscription (newest first)")
def list_deliveries(request: HttpRequest, subscription_id: int,
                    limit: int = 50) -> list[dict[str, Any]]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    limit = min(max(limit, 1), 200)
    sub = WebhookSubscription.objects.for_org(key.organization_id).get(pk=subscription_id)
    rows = WebhookDelivery.objects.for_org(key.organization_id).filter(subscription=sub) \
        .order_by("-created_at", "-id")[:limit]
    return [_delivery_out(d) for d in rows]

@router.post("/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver",
             response={202: DeliveryOut, **ERRORS}, summary="Try a delivery again")
def redeliver(request: HttpRequest, subscription_id: int, delivery_id: int) -> Status[Any]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    delivery = WebhookDelivery.objects.for_org(key.organization_id).get(
        pk=delivery_id, subscription_id=subscription_id)
    if delivery.state == DeliveryState.SUCCEEDED or not services.redeliver(delivery):
        raise ApiError(400, "invalid", _("Already delivered."), "delivery_id")
    delivery.refresh_from_db()
    return Status(202, _delivery_out(delivery))

__all__ = ["EventName", "router"]
