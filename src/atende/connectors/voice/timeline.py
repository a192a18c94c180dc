"""Calls on a ticket's timeline: each call entry (a message of a voice channel) carries its
call, read for a page in one query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atende.connectors.voice.models import Call


def attach_calls(organization_id: int, items: Sequence[Any]) -> None:
    """Set `call_entry` on the page's messages that are calls (one query, and none for a
    page without a voice entry)."""
    ids = [item.pk for item in items if getattr(item, "direction", None) and item.channel_id]
    if not ids:
        return
    calls = {c.message_id: c for c in Call.objects.for_org(organization_id).filter(
        message_id__in=ids).select_related("service")}
    for item in items:
        call = calls.get(item.pk) if getattr(item, "direction", None) else None
        if call is not None:
            item.call_entry = call
            item.call_seconds = int(call.duration.total_seconds()) if call.duration else None
