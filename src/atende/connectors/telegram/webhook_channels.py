"""The webhook's channel lookup, cached per process: one SELECT and one decryption per
channel every few seconds instead of per delivery. A channel's save or delete drops its
entry in this process at once; other processes see a changed secret or a deactivation
within `TELEGRAM_CHANNEL_CACHE_SECONDS`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from atende.channels.models import Channel, ChannelKind


@dataclass(frozen=True)
class WebhookChannel:
    channel: Channel
    webhook_secret: str


_cache: dict[int, tuple[float, WebhookChannel]] = {}
_lock = threading.Lock()


def cached(channel_id: int) -> WebhookChannel | None:
    """The cached entry if it is still fresh, without touching the database (the async
    route calls this in the event loop and `webhook_channel` in a thread on a miss)."""
    hit = _cache.get(channel_id)
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def webhook_channel(channel_id: int) -> WebhookChannel | None:
    """The active Telegram channel with this id and its webhook secret, or None."""
    now = time.monotonic()
    hit = _cache.get(channel_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    channel = Channel.objects.filter(pk=channel_id, kind=ChannelKind.TELEGRAM,
                                     is_active=True).first()
    if channel is None:
        forget(channel_id)
        return None
    found = WebhookChannel(channel, str(channel.secrets.get("webhook_secret") or ""))
    ttl = float(getattr(settings, "TELEGRAM_CHANNEL_CACHE_SECONDS", 5))
    if ttl > 0:
        with _lock:
            _cache[channel_id] = (now + ttl, found)
    return found


def forget(channel_id: int) -> None:
    with _lock:
        _cache.pop(channel_id, None)


def _on_change(sender: Any, instance: Channel, **_kwargs: Any) -> None:
    if instance.pk is not None:
        forget(instance.pk)


post_save.connect(_on_change, sender=Channel, dispatch_uid="telegram-webhook-channel-cache")
post_delete.connect(_on_change, sender=Channel, dispatch_uid="telegram-webhook-channel-cache")
