"""A webhook's channel lookup, cached per process: one SELECT and one decryption per channel
every few seconds instead of per delivery. Each webhook connector keeps one
`WebhookChannels` of its kind, with what it reads from the channel (its secrets, decrypted).

A channel's save or delete drops its entry in this process at once; other processes (more
web workers) see a changed secret or a deactivation within the connector's
`<KIND>_CHANNEL_CACHE_SECONDS` setting (5 by default; 0 turns the cache off).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from atende.channels.models import Channel


class WebhookChannels[Found]:
    """The active channels of one kind, as `read` makes them (`read(channel)`: the channel
    and the secrets its webhook checks), by id. Thread-safe; the entries are immutable."""

    def __init__(self, kind: str, read: Callable[[Channel], Found], ttl_setting: str) -> None:
        self.kind = kind
        self._read = read
        self._ttl_setting = ttl_setting
        self._cache: dict[int, tuple[float, Found]] = {}
        self._lock = threading.Lock()
        uid = f"{kind}-webhook-channel-cache"
        post_save.connect(self._on_change, sender=Channel, weak=False, dispatch_uid=uid)
        post_delete.connect(self._on_change, sender=Channel, weak=False, dispatch_uid=uid)

    def cached(self, channel_id: int) -> Found | None:
        """The cached entry if it is still fresh, without touching the database (the lean
        route calls this in the event loop and `lookup` in a thread on a miss)."""
        hit = self._cache.get(channel_id)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def lookup(self, channel_id: int) -> Found | None:
        """The active channel of this kind with this id, or None (not cached)."""
        now = time.monotonic()
        hit = self._cache.get(channel_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        channel = Channel.objects.filter(pk=channel_id, kind=self.kind,
                                         is_active=True).first()
        if channel is None:
            self.forget(channel_id)
            return None
        found = self._read(channel)
        ttl = float(getattr(settings, self._ttl_setting, 5))
        if ttl > 0:
            with self._lock:
                self._cache[channel_id] = (now + ttl, found)
        return found

    def forget(self, channel_id: int) -> None:
        with self._lock:
            self._cache.pop(channel_id, None)

    def _on_change(self, sender: Any, instance: Channel, **_kwargs: Any) -> None:
        if instance.pk is not None:
            self.forget(instance.pk)
