"""Every queue sort reads a page in index order (PostgreSQL): the page costs the same at 10k
or 1M tickets. The indexes are built on the very expressions the queue orders by, so a
change to one without the other fails here."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.tenancy.models import Membership
from atende.tickets.queue import QueueFilters, queue_for

pytestmark = pytest.mark.django_db


def row_query_plan(membership: Membership, sort: str, view: str = "open") -> str:
    with CaptureQueriesContext(connection) as captured:
        queue_for(membership, QueueFilters(sort=sort, view=view))
    sql = next(q["sql"] for q in captured.captured_queries
               if q["sql"].startswith('SELECT "tickets_ticket"."id"'))
    with connection.cursor() as cursor:
        # A tiny test table is cheaper to scan than to walk: make the planner say which
        # index it *can* use for the ORDER BY.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


# The open views (every view but "resolved") walk the partial indexes on open tickets:
# the full ones start at the oldest tickets, a desk's resolved history, and skipped all of
# it before the first open row (bench/queue.py --open-days 30: 100 ms at 100k tickets).
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
                                   make_ticket: Any, make_agent: Any) -> None:
    for n in range(3):
        make_ticket(tenant.org, f"row {n}", service=tenant.service)
    restricted, _client = make_agent(tenant.org, "carla@example.com")
    restricted.memberships.get().services.add(tenant.service)
    for membership in (tenant.admin.memberships.get(), restricted.memberships.get()):
        plan = row_query_plan(membership, sort, view)
        assert f"Index Scan using {index} on tickets_ticket" in plan, plan
        # Rows come out of the index already in order: no sort of the tickets (the
        # last-message subplan sorts a ticket's few messages, that is fine).
        tickets_part = plan.split("SubPlan")[0]
        assert "Sort" not in tickets_part, plan
