"""Reads of the event outbox made on behalf of long-lived streams.

These run in worker threads (`sync_to_async(thread_sensitive=False)`) for the whole life of a
stream, so each read gives its database connection back when done: an idle SSE client must
not hold a PostgreSQL pool slot, and a broken connection must not poison a thread for good.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import Q

from atende.realtime.models import Event

BATCH = 500


def releasing_connection[**P, R](fn: Callable[P, R]) -> Callable[P, R]:
    """Close this thread's connection after `fn` (returned to the pool on PostgreSQL).

    Also used for the per-request reads of a streaming view, so the response does not keep
    the connection its request thread opened. Left alone inside a transaction (tests).
    """

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:
                connection.close()

    return wrapper


@releasing_connection
def latest_id() -> int:
    """The highest outbox id of any organisation (0 when empty)."""
    last = Event.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


@releasing_connection
def latest_id_for_org(organization_id: int) -> int:
    """The organisation's highest outbox id (0 when it has none)."""
    last = (Event.objects.for_org(organization_id).order_by("-id")
            .values_list("id", flat=True).first())
    return last or 0


@releasing_connection
def present_ids(low: int, high: int) -> set[int]:
    """Committed outbox ids in (low, high]."""
    return set(Event.objects.filter(id__gt=low, id__lte=high).values_list("id", flat=True))


@releasing_connection
def tail(after_id: int, also: Collection[int], limit: int = BATCH) -> list[Event]:
    """Events of every organisation with id > after_id, plus those among `also` (ids skipped
    earlier that may have committed since), in id order."""
    condition = Q(id__gt=after_id)
    if also:
        condition |= Q(id__in=sorted(also))
    return list(Event.objects.filter(condition).order_by("id")[:limit])


@releasing_connection
def for_org_after(organization_id: int, after_id: int, limit: int = BATCH) -> list[Event]:
    """One organisation's events after `after_id` (Last-Event-ID replay), in id order."""
    return list(
        Event.objects.for_org(organization_id).filter(id__gt=after_id).order_by("id")[:limit]
    )


# Async forms. thread_sensitive=False: these reads need no thread affinity, and running
# them in the shared executor keeps a slow query from queueing behind other sync code.
latest_id_async = sync_to_async(latest_id, thread_sensitive=False)
present_ids_async = sync_to_async(present_ids, thread_sensitive=False)
tail_async = sync_to_async(tail, thread_sensitive=False)
for_org_after_async = sync_to_async(for_org_after, thread_sensitive=False)

