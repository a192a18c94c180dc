"""Live row updates: `?rows=` answers only the changed rows that still belong in the
agent's queue (with a sort key that places them), those that left it, and the counts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from atende.tickets.models import Priority, Status
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket

pytestmark = pytest.mark.django_db
LIVE = {"HTTP_HX_REQUEST": "true"}


def delta(client: Client, query: str) -> tuple[list[int], list[int], dict[str, int]]:
    html = client.get("/" + query, **LIVE).content.decode()  # type: ignore[arg-type]
    assert html.lstrip().startswith('<div id="queue-delta"'), html[:200]
    rows = [int(i) for i in re.findall(r'id="ticket-row-(\d+)"', html)]
    gone = [int(i) for i in re.search(r'data-gone="([\d ]*)"', html)[1].split()]  # type: ignore[index]
    counts = {v: int(n) for v, n in re.findall(r'data-count="(\w+)">(\d+)<', html)}
    return rows, gone, counts


def test_changed_rows_come_back_or_are_gone_with_the_counts(
        tenant: Any, admin_client: Client, make_ticket: Any) -> None:
    a, b, c = (make_ticket(tenant.org, f"T{n}") for n in range(3))
    update_ticket(b, Actor(label="t"), status=Status.RESOLVED)
    rows, gone, counts = delta(admin_client, f"?view=open&rows={a.pk},{b.pk},{c.pk}")
    assert rows == [c.pk, a.pk]  # in the page's order (newest update first)
    assert gone == [b.pk]
    assert counts["open"] == 2 and counts["resolved"] == 1
    # The filters of the page apply: a priority filter drops what does not match.
    update_ticket(a, Actor(label="t"), priority=Priority.URGENT)
    rows, gone, _counts = delta(admin_client, f"?priority=urgent&rows={a.pk},{c.pk}")
    assert rows == [a.pk] and gone == [c.pk]
    # Search too.
    rows, gone, _counts = delta(admin_client, f"?q=T2&rows={a.pk},{c.pk}")
    assert rows == [c.pk] and gone == [a.pk]


def test_a_malformed_rows_parameter_is_a_plain_refresh(tenant: Any, admin_client: Client,
                                                       make_ticket: Any) -> None:
    make_ticket(tenant.org, "T")
    html = admin_client.get("/?rows=x,,-1", **LIVE).content.decode()  # type: ignore[arg-type]
    assert html.lstrip().startswith('<div id="queue-live"')


@pytest.mark.parametrize("sort", ["updated", "waiting", "priority"])
def test_sort_keys_order_rows_as_the_server_does(
        sort: str, tenant: Any, admin_client: Client, make_ticket: Any) -> None:
    priorities = [Priority.LOW, Priority.URGENT, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
    for n, priority in enumerate(priorities):
        ticket = make_ticket(tenant.org, f"T{n}")
        update_ticket(ticket, Actor(label="t"), priority=priority)
    html = admin_client.get(f"/?sort={sort}").content.decode()
    keys = re.findall(r'data-sort="([^"]+)"', html)
    assert len(keys) == len(priorities) and keys == sorted(keys) and len(set(keys)) == len(keys)


def test_the_new_rows_view_links_drop_the_rows_parameter(
        tenant: Any, admin_client: Client, make_ticket: Any) -> None:
    t = make_ticket(tenant.org, "T")
    html = admin_client.get(f"/?sort=priority&rows={t.pk}", **LIVE).content.decode()  # type: ignore[arg-type]
    assert "rows=" not in html and 'href="?sort=priority&amp;view=mine"' in html


def test_a_restricted_agent_gets_no_row_of_a_ticket_they_may_not_see(
        tenant: Any, make_agent: Any, make_ticket: Any) -> None:
    _carla, client = make_agent(tenant.org, "carla@example.com")
    hidden = make_ticket(tenant.org, "Secret subject")
    html = client.get(f"/?rows={hidden.pk}", **LIVE).content.decode()  # type: ignore[arg-type]
    assert "Secret subject" not in html and f'data-gone="{hidden.pk}"' in html


@pytest.mark.parametrize("n", [1, 20])
def test_a_live_update_runs_a_constant_number_of_queries(
        n: int, tenant: Any, admin_client: Client, make_ticket: Any,
        django_assert_max_num_queries: Any) -> None:
    ids = [make_ticket(tenant.org, f"T{i}", tags=["a"]).pk for i in range(n)]
    # session, user, membership, rows, tag names, the counts (one statement)
    with django_assert_max_num_queries(6):
        rows, _gone, _counts = delta(admin_client, "?rows=" + ",".join(map(str, ids)))
    assert len(rows) == n
