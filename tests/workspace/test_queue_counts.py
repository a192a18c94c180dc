"""The queue's five capped view counts (CORE-6, CORE-10): a restricted agent's equal the
exact counts of the tickets they may see, capped, whatever the overlap of "assigned to
me" and "of my services" (the counts add the two and subtract their overlap, so that
each part reads one index)."""

from __future__ import annotations

from typing import Any

import pytest

from atende.tenancy.models import Membership, Service, User
from atende.tickets import queue_query as queue
from atende.tickets.models import Status, Ticket
from atende.tickets.visibility import visible_tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def carla(tenant: Any, other_tenant: Any, make_agent: Any, make_ticket: Any) -> Membership:
    """Carla works in the tenant's service. One ticket per status for each mix of service
    (hers, another, none) and assignee (her, the admin, nobody); and, in another
    organisation she also works for, tickets of her service there assigned to her."""
    billing = Service.objects.create(organization=tenant.org, name="Billing")
    user, _client = make_agent(tenant.org, "carla@example.com", name="Carla")
    membership = user.memberships.get(organization=tenant.org)
    membership.services.add(tenant.service)
    mixes: list[tuple[Service | None, User | None]] = [
        (tenant.service, user), (billing, user), (None, user), (tenant.service, tenant.admin),
        (tenant.service, None), (billing, None), (billing, tenant.admin), (None, None)]
    for status in Status.values:
        for service, assignee in mixes:
            ticket = make_ticket(tenant.org, service=service)
            Ticket.objects.filter(pk=ticket.pk).update(status=status, assignee=assignee)
    make_agent(other_tenant.org, "carla@example.com")
    user.memberships.get(organization=other_tenant.org).services.add(other_tenant.service)
    for status in Status.values:
        ticket = make_ticket(other_tenant.org, service=other_tenant.service)
        Ticket.objects.filter(pk=ticket.pk).update(status=status, assignee=user)
    return membership


def exact_counts(membership: Membership) -> dict[str, int]:
    return {v: visible_tickets(membership).filter(queue.view_filter(v, membership.user_id))
            .count() for v in queue.VIEWS}


def test_counts_are_the_exact_counts_capped_in_one_statement(
    carla: Membership, tenant: Any, monkeypatch: Any, django_assert_num_queries: Any
) -> None:
    # Carla sees 5 tickets per status (hers anywhere, and her service's); 3 statuses are
    # open. The administrator sees the 8 of each status in the organisation.
    admin = tenant.admin.memberships.get(organization=tenant.org)
    uncapped = {
        carla: {"mine": 9, "unassigned": 3, "open": 15, "pending": 5, "resolved": 10},
        admin: {"mine": 6, "unassigned": 9, "open": 24, "pending": 8, "resolved": 16},
    }
    # One set of tickets for every cap: the fixture is the slow part.
    for cap in (1000, 10, 7, 6, 4, 2):
        monkeypatch.setattr(queue, "COUNT_CAP", cap)
        for membership, exact in uncapped.items():
            assert exact_counts(membership) == exact
            # cap 4, Carla's "pending": 3 of hers + 3 of her service - 1 of both: neither
            # part reaches the cap, their union does.
            with django_assert_num_queries(1):
                counts = queue.view_counts(membership)
            assert counts == {v: min(n, cap) for v, n in exact.items()}, (membership, cap)
