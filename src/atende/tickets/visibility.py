"""Which tickets an agent may see: the one rule every workspace surface uses (CORE-10).

An agent whose profile has "See every ticket" (administrators have every permission) sees
the whole organisation. Anyone else sees:

- the tickets assigned to them, whatever their service;
- every ticket of the services they belong to, assigned to a colleague or not (a team
  covers for each other; "unassigned of my services" is the queue's "Unassigned" view).

A ticket with no service and no assignee is seen only by those who see every ticket: it
has not been routed to anyone yet.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q, QuerySet

from atende.tenancy.models import Membership, Permission
from atende.tickets.models import Ticket


def sees_every_ticket(membership: Membership) -> bool:
    return membership.has_permission(Permission.VIEW_ALL_TICKETS)


def visibility_branches(membership: Membership, prefix: str = "") -> tuple[Q, Q] | None:
    """The rule's two halves, (assigned to the agent, of the agent's services), or None for
    no restriction. Their OR matches no index (a sequential scan at 1M tickets): a query
    that must stay on indexes reads each half on its own (tickets.queue.count_terms)."""
    if sees_every_ticket(membership):
        return None
    services = Membership.services.through.objects.filter(
        membership_id=membership.pk).values("service_id")
    return (Q(**{f"{prefix}assignee_id": membership.user_id}),
            Q(**{f"{prefix}service_id__in": services}))


def visibility_q(membership: Membership, prefix: str = "") -> Q | None:
    """The filter on tickets (or, with `prefix="ticket__"`, on rows of a ticket), or None
    for no restriction. The services are a subquery: no extra round trip per page."""
    branches = visibility_branches(membership, prefix)
    if branches is None:
        return None
    own, of_services = branches
    return own | of_services


def restrict(qs: QuerySet, membership: Membership, prefix: str = "") -> QuerySet:
    """`qs` (tickets, or rows pointing at a ticket via `prefix`) limited to what the agent
    may see."""
    q = visibility_q(membership, prefix)
    return qs if q is None else qs.filter(q)


def visible_tickets(membership: Membership) -> QuerySet[Ticket]:
    """The agent's organisation's tickets they may see."""
    return restrict(Ticket.objects.for_org(membership.organization_id), membership)


def service_ids(membership: Membership) -> frozenset[int]:
    """The agent's services (one query), for checks on event payloads without a query."""
    return frozenset(membership.services.values_list("pk", flat=True))


def payload_visible(membership: Membership, services: Collection[int] | None,
                    assignee_id: int | None, service_id: int | None) -> bool:
    """The same rule on a ticket's assignee and service as carried by an event; `services`
    is None for an agent who sees every ticket."""
    if services is None:
        return True
    return assignee_id == membership.user_id or (service_id is not None
                                                 and service_id in services)
