"""Every queue sort reads a page in index order (PostgreSQL): the page costs the same at 10k
or 1M tickets. The indexes are built on the very expressions the queue orders by, so a
change to one without the other fails here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from atende.tenancy.models import Membership, Service
from atende.tickets.models import OPEN_STATUSES, Status, Ticket
from atende.tickets.queue_query import COUNT_CAP, VIEWS, QueueFilters, count_terms, queue_for

# Committed rows: the statistics need VACUUM ANALYZE, which runs outside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def row_query_plan(membership: Membership, sort: str, view: str = "open") -> str:
    with CaptureQueriesContext(connection) as captured:
        queue_for(membership, QueueFilters(sort=sort, view=view))
    sql = next(q["sql"] for q in captured.captured_queries
               if q["sql"].startswith('SELECT "tickets_ticket"."id"'))
    with transaction.atomic(), connection.cursor() as cursor:
        # Make the planner say which index it *can* use for the ORDER BY.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


# A desk's history: 4 in 5 tickets resolved or closed, as bench/screens_at_scale.py spreads them.
HISTORY = [Status.RESOLVED, Status.CLOSED] * 4 + list(OPEN_STATUSES) * 2


@pytest.fixture
def desk(tenant: Any, make_ticket: Any,
         make_agent: Any) -> Iterator[Callable[[Sequence[str]], Membership]]:
    """Fills the tenant with 3,000 tickets in the given statuses, vacuumed and measured,
    so the planner weighs the indexes as on a large table. On three tickets and no
    statistics the partial index and the full one cost the same, and which one it took
    depended on which tests had run before in the same database (their rolled-back rows
    were still in the heap). Returns a restricted agent's membership."""
    def fill(statuses: Sequence[str]) -> Membership:
        restricted, _client = make_agent(tenant.org, "carla@example.com")
        membership: Membership = restricted.memberships.get()
        membership.services.add(tenant.service)
        services = [tenant.service] + [
            Service.objects.create(organization=tenant.org, name=f"Service {n}")
            for n in range(4)]
        agents = [restricted, tenant.admin, None]
        model = make_ticket(tenant.org, "model")
        Ticket.objects.bulk_create([
            Ticket(organization=tenant.org, number=model.number + n, subject=f"row {n}",
                   contact=model.contact, origin=model.origin, service=services[n % 5],
                   status=statuses[n % len(statuses)], assignee=agents[n % 7 % 3])
            for n in range(1, 3000)])
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE tickets_ticket")
            cursor.execute("VACUUM ANALYZE tenancy_membership_services")
        return membership

    yield fill
    # Measure the emptied table again, so later tests in this database see a small one.
    Ticket.objects.filter(organization=tenant.org).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")


# The open views (every view but "resolved") walk the partial indexes on open tickets:
# the full ones start at the oldest tickets, a desk's resolved history, and skipped all of
# it before the first open row (bench/screens_at_scale.py --open-days 30: 100 ms at 100k tickets).
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
@pytest.mark.parametrize(("view", "sort", "index"), [
    ("open", "updated", "ticket_org_updated"),
    ("open", "waiting", "ticket_open_waiting"),
    ("open", "priority", "ticket_open_priority"),
    ("open", "sla", "ticket_open_sla_due"),
    ("unassigned", "waiting", "ticket_open_waiting"),
    ("pending", "sla", "ticket_open_sla_due"),
    ("resolved", "waiting", "ticket_org_waiting"),
    ("resolved", "priority", "ticket_org_priority"),
    ("resolved", "sla", "ticket_org_sla_due_id"),
])
def test_each_sort_walks_its_index(view: str, sort: str, index: str, tenant: Any,
                                   desk: Any) -> None:
    restricted = desk(HISTORY)
    for membership in (tenant.admin.memberships.get(), restricted):
        plan = row_query_plan(membership, sort, view)
        assert f"Index Scan using {index} on tickets_ticket" in plan, plan
        # Rows come out of the index already in order: no sort of the tickets (the
        # last-message subplan sorts a ticket's few messages, that is fine).
        tickets_part = plan.split("SubPlan")[0]
        assert "Sort" not in tickets_part, plan


def count_term_plan(qs: Any) -> str:
    sql, params = qs[:COUNT_CAP].query.get_compiler(connection=connection).as_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        # As above; and no bitmap scan, which reads every match before the LIMIT.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN SELECT COUNT(*) FROM ({sql}) AS term", params)
        return "\n".join(row[0] for row in cursor.fetchall())


# A restricted agent's counts: "assigned to me OR of my services" matched no index, and
# four of the five counts were LIMIT 1000 Seq Scans (29-252 ms at 1M tickets). Each term
# is now read on one index alone, and stops after COUNT_CAP matching entries.
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_each_restricted_count_term_reads_one_index_to_the_cap(desk: Any) -> None:
    membership = desk(HISTORY)
    indexes = {
        "mine": ["ticket_org_assignee"],
        "unassigned": ["ticket_org_service_assignee"],
        # own, of my services, both
        **{v: ["ticket_org_assignee", "ticket_org_service_assignee",
               "ticket_org_service_assignee"] for v in ("open", "pending", "resolved")},
    }
    all_terms = count_terms(membership)
    for view in VIEWS:
        terms = all_terms[view]
        assert len(terms) == len(indexes[view]), view
        for (_sign, qs), index in zip(terms, indexes[view], strict=True):
            plan = count_term_plan(qs)
            # Every column the term reads is in the index: the table is not read at all.
            assert f"Index Only Scan using {index} on tickets_ticket" in plan, plan
            assert plan.count(" on tickets_ticket") == 1, plan
