"""Rate limits of the public widget endpoints, per visitor and per client address: fixed
one-minute windows in the cache (per process without Redis, shared with it)."""

from __future__ import annotations

import time

from django.core.cache import cache

PER_VISITOR_MESSAGES = 30
PER_IP_MESSAGES = 120
PER_IP_SESSIONS = 20
PER_VISITOR_TYPING = 60


def allow(scope: str, who: str, limit: int) -> bool:
    """Count one hit; False once `who` passed `limit` in the current minute."""
    window = int(time.time() // 60)
    key = f"webchat:rl:{scope}:{who}:{window}"
    if cache.add(key, 1, timeout=61):
        return True
    try:
        return int(cache.incr(key)) <= limit
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=61)
        return True
