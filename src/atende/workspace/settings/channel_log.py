"""A channel's activity log: what came in (processed, duplicate, waiting, quarantined and
why), the raw event behind each row, "process again", the channel's health and the
refused webhook calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.channels.connection import webhook_url
from atende.channels.models import (
    Channel,
    ChannelKind,
    InboundEvent,
    InboundStatus,
    RefusedWebhook,
)
from atende.channels.pipeline import NotReprocessable, can_process_again, process_again
from atende.channels.reasons import explain
from atende.connectors.email.mailbox_status import mailbox_status
from atende.connectors.email.models import MailboxState
from atende.ids import parse_id
from atende.tickets.models import DeliveryStatus, Direction, Message
from atende.workspace.access import settings_required
from atende.workspace.message_bodies import raw_mail_download
from atende.workspace.settings.channel_forms import screen_for
from atende.workspace.settings.channels import _channel

PAGE_SIZE = 50
PAYLOAD_SHOWN = 20_000  # characters of pretty JSON shown inline; the rest is downloaded
HEALTH_DAYS = 7
FILTERS: dict[str, tuple[Promise, str | None]] = {
    "all": (_("All"), None),
    "quarantined": (_("Quarantined"), InboundStatus.QUARANTINED),
    "duplicate": (_("Duplicate"), InboundStatus.DUPLICATE),
    "processed": (_("Processed"), InboundStatus.PROCESSED),
    "waiting": (_("Waiting"), InboundStatus.RECEIVED),
}

@dataclass(frozen=True)
class Cursor:
    at: datetime
    pk: int

    @classmethod
    def parse(cls, value: str) -> Cursor | None:
        at, _sep, pk = value.rpartition("_")
        moment = parse_datetime(at) if at else None
        row_id = parse_id(pk)
        if moment is None or timezone.is_naive(moment) or row_id is None:
            return None
        return cls(moment, row_id)

    def __str__(self) -> str:
        return f"{self.at.isoformat()}_{self.pk}"


def _events(channel: Channel, status: str | None, cursor: Cursor | None) -> QuerySet[InboundEvent]:
    events = InboundEvent.objects.for_org(channel.organization_id).filter(channel=channel)
    if status:
        events = events.filter(status=status)
    if cursor:  # keyset: strictly older than the last row shown
        events = events.filter(Q(received_at__lt=cursor.at)
                               | Q(received_at=cursor.at, pk__lt=cursor.pk))
    return (events.defer("payload").select_related("message")
            .order_by("-received_at", "-pk"))


def _health(channel: Channel) -> dict[str, Any]:
    org_id = channel.organization_id
    since = timezone.now() - timedelta(days=HEALTH_DAYS)
    failed = (Message.objects.for_org(org_id)
              .filter(channel=channel, direction=Direction.OUTBOUND,
                      delivery_status=DeliveryStatus.FAILED, created_at__gte=since)
              .order_by("-created_at"))
    health: dict[str, Any] = {
        "failed_count": failed.count(),
        "failed_last": list(failed.values("ticket_id", "failure_reason", "created_at")[:5]),
        "last_event": (InboundEvent.objects.for_org(org_id).filter(channel=channel)
                       .order_by("-received_at").values_list("received_at", flat=True).first()),
        "refused": list(RefusedWebhook.objects.for_org(org_id).filter(channel=channel)
                        .order_by("-at", "-pk")[:10]),
    }
    if channel.kind == ChannelKind.EMAIL:
        health["mailboxes"] = list(MailboxState.objects.for_org(org_id)
                                   .filter(channel=channel).order_by("folder"))
        health["mailbox_status"] = mailbox_status(channel)
    if channel.kind == ChannelKind.WHATSAPP:
        health["webhook_url"] = webhook_url(channel)
    return health


@settings_required
def channel_log(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    key = request.GET.get("status", "all")
    if key not in FILTERS:
        key = "all"
    cursor = Cursor.parse(request.GET.get("before", ""))
    rows = list(_events(channel, FILTERS[key][1], cursor)[:PAGE_SIZE + 1])
    older = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        older = str(Cursor(rows[-1].received_at, rows[-1].pk))
    for event in rows:
        event.reason = explain(event.error)  # type: ignore[attr-defined]
    return render(request, "workspace/settings/channel_log.html", {
        "channel": channel, "events": rows, "older": older, "status": key,
        "filters": [(k, label) for k, (label, _status) in FILTERS.items()],
        "health": _health(channel), "reprocessable": can_process_again(channel.kind),
        "is_email": channel.kind == ChannelKind.EMAIL,
        "editable": screen_for(channel.kind) is not None,
    })


def _event(request: HttpRequest, pk: int, event_id: int) -> tuple[Channel, InboundEvent]:
    channel = _channel(request, pk)
    event = (InboundEvent.objects.for_org(channel.organization_id)
             .filter(channel=channel, pk=event_id).select_related("channel", "message").first())
    if event is None:
        raise Http404
    return channel, event


@settings_required
def event_detail(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    channel, event = _event(request, pk, event_id)
    pretty = json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True)
    return render(request, "workspace/settings/channel_log_event.html", {
        "channel": channel, "event": event, "reason": explain(event.error),
        "payload": pretty[:PAYLOAD_SHOWN], "truncated": len(pretty) > PAYLOAD_SHOWN,
        "is_email": channel.kind == ChannelKind.EMAIL,
        "reprocessable": can_process_again(channel.kind),
    })


@settings_required
def event_payload(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    event = _event(request, pk, event_id)[1]
    body = json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.json"'
    return response


@settings_required
def event_eml(request: HttpRequest, pk: int, event_id: int) -> HttpResponseBase:
    """The mail as received, as a download only (never rendered inline)."""
    channel, event = _event(request, pk, event_id)
    payload = event.payload if channel.kind == ChannelKind.EMAIL else None
    return raw_mail_download(channel.organization_id, payload, f"event-{event.pk}.eml")


@require_POST
@settings_required
def event_reprocess(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    channel, event = _event(request, pk, event_id)
    try:
        status = process_again(event)
    except NotReprocessable:
        raise Http404 from None
    label = InboundStatus(status).label if status in InboundStatus.values else status
    if status == InboundStatus.QUARANTINED:
        messages.error(request, _("Processed again, still quarantined: %(reason)s")
                       % {"reason": explain(InboundEvent.objects.get(pk=event.pk).error)})
    else:
        messages.success(request, _("Event %(id)d: %(status)s.")
                         % {"id": event.pk, "status": label})
    return redirect("workspace:settings:channel_log_event", pk=channel.pk, event_id=event.pk)
