"""Per-channel mailbox leases: at most one holder per (channel, purpose) across processes
and machines. A conditional UPDATE takes an expired lease over; the unique constraint
settles two processes creating the first row at once. A holder that dies simply lets its
lease expire."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, TextField, Value, When
from django.utils import timezone

from atende.connectors.email.models import MailboxLease

FETCH, IDLE = "fetch", "idle"


def new_holder() -> str:
    """Names the process (for whoever looks at the table) and is unique per call."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(organization_id: int, channel_id: int, purpose: str, holder: str,
            seconds: float) -> bool:
    """Take (or renew, for the same holder) the lease for `seconds`; False if someone else
    holds a live one."""
    now = timezone.now()
    until = now + timedelta(seconds=seconds)
    mine = Q(holder=holder)
    # A new holder starts with no reported state (the previous one's is not its own).
    taken = MailboxLease.objects.filter(channel_id=channel_id, purpose=purpose).filter(
        Q(expires_at__lte=now) | mine).update(
        holder=holder, expires_at=until,
        idle_since=Case(When(mine, then=F("idle_since")), default=None),
        last_error=Case(When(mine, then=F("last_error")), default=Value(""),
                        output_field=TextField()),
        error_at=Case(When(mine, then=F("error_at")), default=None))
    if taken:
        return True
    try:
        with transaction.atomic():
            MailboxLease.objects.create(organization_id=organization_id, channel_id=channel_id,
                                        purpose=purpose, holder=holder, expires_at=until)
    except IntegrityError:
        return False
    return True


def release(channel_id: int, purpose: str, holder: str) -> None:
    MailboxLease.objects.filter(channel_id=channel_id, purpose=purpose,
                                holder=holder).delete()


def report_idling(channel_id: int, holder: str) -> None:
    """The `idle` holder is now in IDLE (shown on the channel screens)."""
    MailboxLease.objects.filter(channel_id=channel_id, purpose=IDLE, holder=holder).update(
        idle_since=timezone.now(), last_error="", error_at=None)


def report_error(channel_id: int, holder: str, error: str) -> None:
    """The `idle` holder's connection failed; it will try again."""
    MailboxLease.objects.filter(channel_id=channel_id, purpose=IDLE, holder=holder).update(
        idle_since=None, last_error=error[:2000], error_at=timezone.now())


def live_channel_ids(purpose: str, channel_ids: list[int]) -> set[int]:
    return set(MailboxLease.objects.filter(
        channel_id__in=channel_ids, purpose=purpose, expires_at__gt=timezone.now(),
    ).values_list("channel_id", flat=True))
