"""What went in and out through a channel, newest first, keyset-paginated.

Entries are ordered by (time, direction, id) descending, where time is `received_at` for an
inbound event and `created_at` for an outbound message. A page costs one query per direction
whatever its size and the log's.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Literal

from django.db.models import Q, QuerySet

from atende import json_input
from atende.channels.models import Channel, InboundEvent
from atende.tickets.models import Direction, Message

AuditDirection = Literal["in", "out"]
RANK = {"in": 0, "out": 1}  # the tie-break between an event and a message of the same instant
Cursor = tuple[datetime, str, int]


class BadCursor(ValueError):
    pass


def audit_page(channel: Channel, *, direction: AuditDirection | None, cursor: str | None,
               limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Entries of `direction` (both when None) older than `cursor`; returns (items, next)."""
    after = decode_cursor(cursor) if cursor else None
    items: list[dict[str, Any]] = []
    if direction in (None, "in"):
        items += _inbound(channel, after, limit + 1)
    if direction in (None, "out"):
        items += _outbound(channel, after, limit + 1)
    items.sort(key=lambda item: _rank(_position(item)), reverse=True)
    next_cursor = encode_cursor(_position(items[limit - 1])) if len(items) > limit else None
    return items[:limit], next_cursor


def _position(item: dict[str, Any]) -> Cursor:
    at = item["received_at"] if item["direction"] == "in" else item["created_at"]
    return at, item["direction"], item["id"]


def _rank(position: Cursor) -> tuple[datetime, int, int]:
    at, direction, pk = position
    return at, RANK[direction], pk


def _older(qs: QuerySet[Any], field: str, direction: str, after: Cursor | None) -> QuerySet[Any]:
    """Rows whose (time, direction, id) sorts below the cursor."""
    if after is None:
        return qs
    at, cursor_direction, pk = after
    if RANK[direction] < RANK[cursor_direction]:
        return qs.filter(**{f"{field}__lte": at})
    if RANK[direction] > RANK[cursor_direction]:
        return qs.filter(**{f"{field}__lt": at})
    return qs.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk}))


def _inbound(channel: Channel, after: Cursor | None, limit: int) -> list[dict[str, Any]]:
    qs = InboundEvent.objects.for_org(channel.organization_id).filter(channel=channel)
    rows = _older(qs, "received_at", "in", after).order_by("-received_at", "-id").values(
        "id", "provider_id", "status", "error", "received_at", "processed_at", "message_id",
        "message__ticket_id",
    )[:limit]
    return [
        {**{k: v for k, v in row.items() if k != "message__ticket_id"},
         "direction": "in", "ticket_id": row["message__ticket_id"]}
        for row in rows
    ]


def _outbound(channel: Channel, after: Cursor | None, limit: int) -> list[dict[str, Any]]:
    qs = Message.objects.for_org(channel.organization_id).filter(
        channel=channel, direction=Direction.OUTBOUND)
    rows = _older(qs, "created_at", "out", after).order_by("-created_at", "-id").values(
        "id", "ticket_id", "delivery_status", "failure_reason", "send_attempts", "external_id",
        "created_at", "sent_at",
    )[:limit]
    return [{**row, "direction": "out"} for row in rows]


def encode_cursor(key: Cursor) -> str:
    at, direction, pk = key
    raw = json.dumps([at.isoformat(), direction, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Cursor:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, direction, pk = json_input.loads(base64.urlsafe_b64decode(padded))
        if direction not in RANK:
            raise ValueError(direction)
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError(at)
        return parsed, direction, int(pk)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadCursor(cursor) from exc
