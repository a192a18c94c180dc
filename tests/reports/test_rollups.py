"""The roll-ups agree with a direct computation over the stored tickets, whatever order
the tickets were recomputed in, however often, and after reopenings (RP-1..4)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command

from atende.reports import builders, histogram, rollups
from atende.reports.filters import Period, ReportFilters, Scope
from atende.reports.models import DailyRollup, PendingTicket, TicketFact
from atende.reports.shapes import Duration
from tests.reports.world import (
    direct_days,
    direct_first_response,
    direct_messages,
    make_world,
    nearest_rank,
    random_ticket,
)

pytestmark = pytest.mark.django_db


def _cells(org: Any) -> list[tuple[Any, ...]]:
    return sorted(DailyRollup.objects.filter(organization=org).values_list(
        "day", "service_id", "channel_id", "dimension", "key", "opened", "reopened",
        "resolved", "backlog_delta", "messages_sent", "first_responses", "resolutions",
        "handled", "handling_seconds", "first_response_hist", "resolution_hist"))


def _filters(world: Any, days: int = 40) -> ReportFilters:
    return ReportFilters(Period(world.today - timedelta(days=days - 1), world.today),
                         None, None, "channel")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_direct_computation_in_any_order(tenant: Any, seed: int) -> None:
    rng = random.Random(seed)
    world = make_world(tenant.org, rng)
    tickets = [random_ticket(world, rng, n) for n in range(30)]
    ids = [t.pk for t in tickets]
    # Recompute in random, overlapping, repeated batches: the result must not depend on it.
    for _round in range(4):
        rng.shuffle(ids)
        cut = rng.randint(1, len(ids))
        rollups.refresh_tickets(tenant.org, ids[:cut])
    rollups.refresh_tickets(tenant.org, ids)

    filters = _filters(world)
    report = builders.dashboard(Scope(tenant.org.pk, None), filters)
    per_day = report.tables[1].rows
    assert per_day == direct_days(world, filters.period.start, filters.period.end)
    assert sum(r[1] for r in per_day) == 30

    per_channel = {row[0]: row for row in report.tables[0].rows}
    for channel in [*world.channels, None]:
        values = direct_first_response(world, filters.period.start, filters.period.end, channel)
        name = channel.name if channel else "No channel"
        if name not in per_channel:
            assert not values
            continue
        median, p90 = per_channel[name][3], per_channel[name][4]
        assert (median.seconds if median else None) == nearest_rank(values, 0.5)
        assert (p90.seconds if p90 else None) == nearest_rank(values, 0.9)

    agents = builders.agents_report(Scope(tenant.org.pk, None), filters)
    by_name = {row[0]: row[2] for row in agents.tables[0].rows}
    expected = direct_messages(world, filters.period.start, filters.period.end)
    assert {a.name: expected.get(a.pk, 0) for a in world.agents if a.name in by_name} == \
        {k: v for k, v in by_name.items()}
    assert sum(expected.values()) == sum(by_name.values())


def test_a_change_after_a_recompute_moves_the_figures(tenant: Any) -> None:
    """Reopening and re-resolving a ticket, recomputed after each step, ends where a fresh
    rebuild ends."""
    rng = random.Random(7)
    world = make_world(tenant.org, rng)
    tickets = [random_ticket(world, rng, n, steps=3) for n in range(10)]
    rollups.refresh_tickets(tenant.org, [t.pk for t in tickets])
    more = [random_ticket(world, rng, n, steps=5) for n in range(10, 16)]
    # Grow the history of the first tickets (a reopening arriving late).
    from atende.tickets.models import AuditEntry, Ticket

    for t in tickets[:5]:
        t.refresh_from_db()
        when = t.created_at + timedelta(hours=1)
        AuditEntry.objects.create(organization=tenant.org, ticket=t, action="x", field="status",
                                  before=t.status, after="open", created_at=when)
        Ticket.objects.filter(pk=t.pk).update(status="open", resolved_at=None)
    rollups.refresh_tickets(tenant.org, [t.pk for t in tickets + more])
    incremental = _cells(tenant.org)
    call_command("rebuild_report_rollups", organization=tenant.org.slug)
    assert _cells(tenant.org) == incremental
    filters = _filters(world)
    report = builders.dashboard(Scope(tenant.org.pk, None), filters)
    assert report.tables[1].rows == direct_days(world, filters.period.start, filters.period.end)


def test_the_rebuild_is_idempotent(tenant: Any) -> None:
    rng = random.Random(11)
    world = make_world(tenant.org, rng)
    for n in range(12):
        random_ticket(world, rng, n)
    call_command("rebuild_report_rollups")
    first = _cells(tenant.org)
    assert first
    call_command("rebuild_report_rollups", organization=tenant.org.slug)
    assert _cells(tenant.org) == first
    assert TicketFact.objects.filter(organization=tenant.org).count() == 12


def test_a_deleted_ticket_leaves_the_figures(tenant: Any) -> None:
    rng = random.Random(5)
    world = make_world(tenant.org, rng)
    ticket = random_ticket(world, rng, 1, steps=4)
    rollups.refresh_tickets(tenant.org, [ticket.pk])
    assert DailyRollup.objects.filter(organization=tenant.org).exists()
    ticket_id = ticket.pk
    ticket.delete()
    rollups.refresh_tickets(tenant.org, [ticket_id])
    assert not DailyRollup.objects.filter(organization=tenant.org).exists()
    assert not TicketFact.objects.filter(organization=tenant.org).exists()


def test_histogram_percentiles_are_within_an_eighth_of_the_exact_value() -> None:
    rng = random.Random(3)
    for _ in range(200):
        values = [rng.expovariate(1 / 3600) + 1 for _ in range(rng.randint(1, 50))]
        counts: dict[int, int] = {}
        for v in values:
            counts[histogram.bucket(v)] = counts.get(histogram.bucket(v), 0) + 1
        exact = sorted(values)[(len(values) + 1) // 2 - 1]
        estimate = histogram.percentile(counts, 0.5)
        assert estimate is not None
        assert abs(estimate - exact) / exact < 0.125


def test_pending_markers_survive_until_drained(tenant: Any, make_ticket: Any) -> None:
    """Opening a ticket marks it in the same transaction; the job takes the mark away
    when it has recomputed it."""
    ticket = make_ticket(tenant.org)
    assert PendingTicket.objects.filter(ticket_id=ticket.pk).exists()
    assert rollups.drain(tenant.org.pk) == 1
    assert not PendingTicket.objects.filter(ticket_id=ticket.pk).exists()
    cell = DailyRollup.objects.get(organization=tenant.org, dimension="")
    assert (cell.opened, cell.backlog_delta) == (1, 1)
    assert rollups.drain(tenant.org.pk) == 0


def test_durations_print_for_people() -> None:
    assert str(Duration(42)) == "42 s"
    assert str(Duration(16200)) == "4 h 30 min"
    assert str(Duration(3 * 86400 + 7200)) == "3 d 2 h"


def test_the_task_started_on_commit_brings_the_figures_up_to_date(
        tenant: Any, make_ticket: Any, django_capture_on_commit_callbacks: Any) -> None:
    """With tasks run at once (ATENDE_TASKS_IMMEDIATE, as the suite runs), the change's
    commit is enough: no explicit drain."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(tenant.org)
    assert not PendingTicket.objects.filter(ticket_id=ticket.pk).exists()
    assert DailyRollup.objects.get(organization=tenant.org, dimension="").opened == 1
