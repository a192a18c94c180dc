"""Rate limits of the public widget endpoints, per visitor and per client address: fixed
one-minute windows in the cache (per process without Redis, shared with it). The limits
per address are settings (ATENDE_WIDGET_*_PER_IP_MINUTE): an office behind one address
may need more."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

PER_VISITOR_MESSAGES = 30
PER_VISITOR_TYPING = 60


def per_ip_sessions() -> int:
    return int(settings.WIDGET_SESSIONS_PER_IP_MINUTE)


def per_ip_messages() -> int:
    return int(settings.WIDGET_MESSAGES_PER_IP_MINUTE)


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
