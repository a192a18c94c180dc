"""A per-address budget for the public knowledge-base endpoints (suggestions, votes)."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

from atende.client_address import client_ip

PER_MINUTE = {"suggest": 120, "vote": 20, "search": 60}


def allowed(request: HttpRequest, what: str) -> bool:
    """Count this request; False once the address has used its minute's budget."""
    key = f"kb-limit:{what}:{client_ip(request)}:{int(time.time() // 60)}"
    if cache.add(key, 1, timeout=70):
        return True
    try:
        return cache.incr(key) <= PER_MINUTE[what]
    except ValueError:  # expired between add and incr
        return cache.add(key, 1, timeout=70) or True
