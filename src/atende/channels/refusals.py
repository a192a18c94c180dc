"""Refused webhook calls (wrong or missing secret), logged cheaply for the channel's log.

An attacker can call a webhook as often as they like: at most one row per channel per
minute is written (a cache key gates the insert), the calls in between are only counted in
the cache and added to the next row, and each channel keeps its latest rows only.
"""

from __future__ import annotations

from django.core.cache import cache

from atende.channels.models import Channel, RefusedWebhook

WINDOW_SECONDS = 60
KEEP = 50


def log_refused(channel: Channel, remote_addr: str | None, reason: str) -> bool:
    """Record a refused call; returns whether a row was written (False: rate-limited)."""
    gate, counter = f"refused-webhook:{channel.pk}", f"refused-webhook-n:{channel.pk}"
    if not cache.add(gate, 1, WINDOW_SECONDS):
        try:
            cache.incr(counter)
        except ValueError:  # expired or evicted: start counting again
            cache.set(counter, 1, WINDOW_SECONDS * 60)
        return False
    skipped = cache.get(counter) or 0
    cache.delete(counter)
    RefusedWebhook.objects.create(
        organization_id=channel.organization_id, channel=channel,
        remote_addr=(remote_addr or "")[:45], reason=reason[:200], skipped=skipped)
    stale = list(RefusedWebhook.objects.filter(channel=channel)
                 .order_by("-at", "-pk").values_list("pk", flat=True)[KEEP:KEEP + 100])
    if stale:
        RefusedWebhook.objects.filter(pk__in=stale).delete()
    return True
