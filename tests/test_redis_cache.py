"""The Redis cache backend keeps one client per connection pool (Django's builds one per
call) and behaves as Django's otherwise, against the real Redis of the scaled profile."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif(
    "redis" not in settings.CACHES["default"]["BACKEND"],
    reason="the scaled profile's cache (Redis)")


def test_one_client_per_pool_reused_across_calls() -> None:
    backend = cache._cache  # type: ignore[attr-defined]
    first = backend.get_client(write=True)
    assert backend.get_client(write=True) is first
    assert backend.get_client("any-key") is first  # one server: reads use the same pool


def test_cache_operations_through_the_reused_client() -> None:
    assert cache.add("redis-cache-test", 1, 30)
    assert not cache.add("redis-cache-test", 2, 30)  # NX, as the drain flags rely on
    assert cache.get("redis-cache-test") == 1
    cache.set_many({"redis-cache-a": "x", "redis-cache-b": [1, 2]}, 30)
    assert cache.get_many(["redis-cache-a", "redis-cache-b"]) == {
        "redis-cache-a": "x", "redis-cache-b": [1, 2]}
    assert cache.incr("redis-cache-test") == 2
    cache.delete_many(["redis-cache-test", "redis-cache-a", "redis-cache-b"])
    assert cache.get("redis-cache-test") is None


def test_concurrent_threads_each_get_their_own_answers() -> None:
    """Each thread has its own cache object (Django's per-thread handler); concurrent use
    of the shared pool gives every thread its own answers."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                key = f"redis-cache-thread-{n}-{i}"
                cache.set(key, (n, i), 30)
                assert cache.get(key) == (n, i)
                cache.delete(key)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
