"""Keeping the daily cells current: recompute the contribution of changed tickets and
apply the difference, and the rebuild from the stored tickets.

Every write takes the organisation's `RollupLock` row first, so the job, a second worker
and the rebuild never interleave their read-modify-write of the cells.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from atende.bulk_update import bulk_update
from atende.reports.contribution import (
    Cell,
    Deltas,
    TicketFacts,
    accumulate,
    contribution,
    deserialise,
    difference,
    serialise,
)
from atende.reports.models import (
    COUNTERS,
    HISTOGRAMS,
    DailyRollup,
    PendingTicket,
    RollupLock,
    TicketFact,
)
from atende.tenancy.models import Organization
from atende.tickets.models import AuditEntry, Direction, Message, Ticket

BATCH = 500
TICKET_FIELDS = (
    "pk", "created_at", "status", "service_id", "channel_id", "assignee_id", "category",
    "finalization_tag_id", "first_response_at", "resolved_at", "first_response_due_at",
    "resolution_due_at", "first_response_breached_at", "resolution_breached_at",
)


def day_function(organization: Organization) -> Callable[[datetime], date]:
    """Days are the organisation's calendar days."""
    try:
        zone = zoneinfo.ZoneInfo(organization.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return lambda moment: timezone.localtime(moment, zone).date()


def load_facts(organization_id: int, ticket_ids: list[int]) -> dict[int, TicketFacts]:
    """The facts of these tickets (three queries whatever their number)."""
    rows = Ticket.objects.for_org(organization_id).filter(pk__in=ticket_ids).values(
        *TICKET_FIELDS)
    changes: dict[int, list[tuple[datetime, str, str]]] = {}
    for ticket_id, when, before, after in (
            AuditEntry.objects.for_org(organization_id)
            .filter(ticket_id__in=ticket_ids, field="status")
            .order_by("created_at", "id")
            .values_list("ticket_id", "created_at", "before", "after")):
        changes.setdefault(ticket_id, []).append((when, str(before), str(after)))
    answers: dict[int, list[tuple[datetime, int]]] = {}
    for ticket_id, when, author in (
            Message.objects.for_org(organization_id)
            .filter(ticket_id__in=ticket_ids, direction=Direction.OUTBOUND,
                    author_user__isnull=False)
            .values_list("ticket_id", "created_at", "author_user_id")):
        answers.setdefault(ticket_id, []).append((when, author))
    facts = {}
    for row in rows:
        pk = row.pop("pk")
        facts[pk] = TicketFacts(**row, status_changes=changes.get(pk, []),
                                answers=answers.get(pk, []))
    return facts


def _lock(organization_id: int) -> None:
    RollupLock.objects.get_or_create(organization_id=organization_id)
    RollupLock.objects.select_for_update().get(organization_id=organization_id)


def _apply(organization_id: int, diff: dict[Cell, Deltas]) -> None:
    """Add `diff` to the cells (caller holds the lock). Cells left all zero are deleted."""
    if not diff:
        return
    days = {cell[0] for cell in diff}
    existing: dict[Cell, DailyRollup] = {}
    query = DailyRollup.objects.for_org(organization_id).filter(
        day__in=days, service_id__in={c[1] for c in diff},
        channel_id__in={c[2] for c in diff}, dimension__in={c[3] for c in diff})
    for row in query:
        cell = (row.day.isoformat(), row.service_id, row.channel_id, row.dimension, row.key)
        if cell in diff:
            existing[cell] = row
    created, changed, emptied = [], [], []
    for cell, deltas in diff.items():
        row = existing.get(cell)
        if row is None:
            row = DailyRollup(organization_id=organization_id, day=date.fromisoformat(cell[0]),
                              service_id=cell[1], channel_id=cell[2], dimension=cell[3],
                              key=cell[4])
            created.append(row)
        else:
            changed.append(row)
        for name, value in deltas.items():
            if isinstance(value, dict):
                hist = json.loads(getattr(row, name) or "{}")
                for index, count in value.items():
                    total = hist.get(index, 0) + count
                    if total:
                        hist[index] = total
                    else:
                        hist.pop(index, None)
                setattr(row, name, json.dumps(hist, sort_keys=True, separators=(",", ":")))
            else:
                setattr(row, name, getattr(row, name) + value)
        if row.pk and not any(getattr(row, c) for c in COUNTERS) \
                and all(getattr(row, h) in ("", "{}") for h in HISTOGRAMS):
            emptied.append(row.pk)
    if created:
        DailyRollup.objects.bulk_create(created, batch_size=500)
    if changed:
        bulk_update(changed, [*COUNTERS, *HISTOGRAMS])
    if emptied:
        DailyRollup.objects.filter(pk__in=emptied).delete()


def refresh_tickets(organization: Organization, ticket_ids: list[int]) -> None:
    """Recompute these tickets' contributions and apply the differences, in one transaction
    under the organisation's lock (idempotent: a second call changes nothing)."""
    with transaction.atomic():
        _lock(organization.pk)
        _refresh_locked(organization, ticket_ids)


def _refresh_locked(organization: Organization, ticket_ids: list[int]) -> None:
    day_of = day_function(organization)
    facts = load_facts(organization.pk, ticket_ids)
    stored = {f.ticket_id: f for f in TicketFact.objects.for_org(organization.pk)
              .filter(ticket_id__in=ticket_ids)}
    diff: dict[Cell, Deltas] = {}
    new_facts, changed_facts, gone = [], [], []
    for ticket_id in ticket_ids:
        old_fact = stored.get(ticket_id)
        old = deserialise(old_fact.contribution) if old_fact else {}
        new = contribution(facts[ticket_id], day_of) if ticket_id in facts else {}
        accumulate(diff, difference(old, new))
        if ticket_id not in facts:
            if old_fact:
                gone.append(old_fact.pk)
        elif old_fact is None:
            new_facts.append(TicketFact(organization_id=organization.pk, ticket_id=ticket_id,
                                        contribution=serialise(new)))
        elif old != new:
            old_fact.contribution = serialise(new)
            changed_facts.append(old_fact)
    _apply(organization.pk, diff)
    TicketFact.objects.bulk_create(new_facts, batch_size=500)
    TicketFact.objects.bulk_update(changed_facts, ["contribution"], batch_size=500)
    TicketFact.objects.filter(pk__in=gone).delete()


def drain(organization_id: int, limit: int = 50) -> int:
    """Recompute the organisation's pending tickets, a batch per transaction, removing each
    marker in the transaction that recomputed it. Returns how many were recomputed."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    done = 0
    for _round in range(limit):
        with transaction.atomic():
            _lock(organization_id)
            pending = list(PendingTicket.objects.for_org(organization_id)
                           .order_by("pk").values_list("pk", "ticket_id")[:BATCH])
            if not pending:
                break
            _refresh_locked(organization, [ticket_id for _pk, ticket_id in pending])
            PendingTicket.objects.filter(pk__in=[pk for pk, _t in pending]).delete()
        done += len(pending)
        if len(pending) < BATCH:
            break
    return done


def drain_all() -> int:
    """The minute job: every organisation with pending tickets (a lost task loses nothing)."""
    org_ids = set(PendingTicket.objects.values_list("organization_id", flat=True).distinct())
    return sum(drain(org_id) for org_id in sorted(org_ids))


def rebuild(organization: Organization, *, chunk: int = 2000,
            progress: Callable[[int], None] | None = None) -> int:
    """Forget the organisation's cells and compute them again from its tickets. Idempotent,
    and safe beside the job: each chunk goes through the same locked difference."""
    with transaction.atomic():
        _lock(organization.pk)
        DailyRollup.objects.for_org(organization.pk).delete()
        TicketFact.objects.for_org(organization.pk).delete()
        RollupLock.objects.filter(organization=organization).update(rebuilt_at=timezone.now())
    done, last = 0, 0
    while True:
        ids = list(Ticket.objects.for_org(organization.pk).filter(pk__gt=last)
                   .order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        refresh_tickets(organization, ids)
        done += len(ids)
        last = ids[-1]
        if progress:
            progress(done)
    return done


def mark(organization_id: int, ticket_ids: Iterable[int]) -> None:
    """Note tickets whose figures changed (inside the change's transaction)."""
    rows = [PendingTicket(organization_id=organization_id, ticket_id=t)
            for t in sorted(set(ticket_ids))]
    if rows:
        PendingTicket.objects.bulk_create(rows, ignore_conflicts=True)


