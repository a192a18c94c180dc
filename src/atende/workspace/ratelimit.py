"""Sign-in (and password-reset) attempt limiting: a cache counter per client address and
e-mail.

Per address *and* e-mail, so one attacker cannot lock a colleague out from elsewhere, and
a shared office address does not block everyone after one person's typos.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _key(ip: str, email: str, scope: str) -> str:
    digest = hashlib.sha256(f"{ip}|{email.strip().lower()}".encode()).hexdigest()[:32]
    return f"{scope}-attempts:{digest}"


def is_blocked(ip: str, email: str, scope: str = "login") -> bool:
    return int(cache.get(_key(ip, email, scope), 0)) >= MAX_FAILURES


def record_failure(ip: str, email: str, scope: str = "login") -> None:
    """Count one attempt of `scope` ("login" failures, "reset" requests)."""
    key = _key(ip, email, scope)
    if cache.add(key, 1, WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)


def reset(ip: str, email: str, scope: str = "login") -> None:
    cache.delete(_key(ip, email, scope))
