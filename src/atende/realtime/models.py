"""The event outbox: every realtime event is a row, written in the transaction that caused it.

The embedded broker tails this table; the Redis broker publishes rows on commit. Either way
an SSE client that reconnects with Last-Event-ID replays what it missed from here.
"""

from django.db import models
from django.utils import timezone

from atende.tenancy.models import TenantModel


class Event(TenantModel):
    type = models.CharField(max_length=60)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "id"], name="event_org_id")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"
