"""Who has a ticket open right now: a cache entry per ticket, refreshed by each open
screen's heartbeat; an agent who stops beating disappears after PRESENCE_TTL."""

from __future__ import annotations

import time

from django.core.cache import cache

HEARTBEAT_SECONDS = 10
PRESENCE_TTL = 3 * HEARTBEAT_SECONDS


def _key(organization_id: int, ticket_id: int) -> str:
    return f"ticket-presence:{organization_id}:{ticket_id}"


def beat(organization_id: int, ticket_id: int, user_id: int, name: str) -> list[str]:
    """Record that this agent is looking; returns the names of the other agents looking.

    A read-modify-write without a lock: a lost update is repaired by the next heartbeat.
    """
    key = _key(organization_id, ticket_id)
    now = time.time()
    viewers: dict[int, tuple[str, float]] = cache.get(key) or {}
    viewers = {uid: v for uid, v in viewers.items() if now - v[1] < PRESENCE_TTL}
    viewers[user_id] = (name, now)
    cache.set(key, viewers, PRESENCE_TTL)
    return sorted(v[0] for uid, v in viewers.items() if uid != user_id)


def leave(organization_id: int, ticket_id: int, user_id: int) -> None:
    key = _key(organization_id, ticket_id)
    viewers: dict[int, tuple[str, float]] = cache.get(key) or {}
    if viewers.pop(user_id, None) is not None:
        cache.set(key, viewers, PRESENCE_TTL)
