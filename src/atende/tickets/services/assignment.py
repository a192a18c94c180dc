"""Automatic assignment (CORE-15): round robin among a service's online agents, within each
agent's capacity (open tickets assigned to them).

Guarantees: one ticket gets at most one automatic assignee (the ticket row is locked, and a
ticket that already has one is left alone); on PostgreSQL the service's candidate agents are
locked in primary-key order before their load is counted, so two tickets assigned at once
never push an agent past capacity and never deadlock; SQLite serialises writers anyway.
Tickets with no eligible agent wait, and are picked up when an agent of the service comes
online. Manual assignment (tickets.services.changes.update_ticket) is never blocked.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from atende.tenancy.models import Membership, Presence, Service
from atende.tickets.models import OPEN_STATUSES, Ticket
from atende.tickets.services.actor import Actor

ACTOR = Actor(label="automatic assignment")


def assign_on_commit(ticket: Ticket) -> None:
    """Schedule `assign_next` for a new ticket of an auto-assign service, after commit."""
    service = ticket.service
    if service is None or not service.auto_assign or ticket.assignee_id is not None:
        return
    from atende.tickets.tasks import auto_assign_ticket

    ticket_id = ticket.pk
    transaction.on_commit(lambda: auto_assign_ticket.enqueue(ticket_id))


def _pick(organization_id: int, service_id: int) -> Membership | None:
    """The next agent in turn: online, active, in the service, below capacity; the one who
    got a ticket longest ago (never first), then the oldest membership."""
    candidates = list(
        Membership.objects.for_org(organization_id)
        .select_for_update(of=("self",))
        .filter(services=service_id, is_active=True, presence=Presence.ONLINE,
                user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    if not candidates:
        return None
    load = dict(
        Ticket.objects.for_org(organization_id)
        .filter(assignee_id__in=[m.user_id for m in candidates], status__in=OPEN_STATUSES)
        .values_list("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n")
    )
    free = [m for m in candidates if load.get(m.user_id, 0) < m.capacity]
    if not free:
        return None
    epoch = timezone.now().replace(year=1)
    return min(free, key=lambda m: (m.last_assigned_at or epoch, m.pk))


@transaction.atomic
def assign_next(ticket_id: int) -> Membership | None:
    """Assign an unassigned open ticket of an auto-assign service to the agent in turn.

    Returns the chosen membership, or None when the ticket is not eligible or must wait.
    A ticket being assigned by someone else right now is skipped, not waited for.
    """
    ticket = (Ticket.objects.select_for_update(skip_locked=True, of=("self",))
              .select_related("service").filter(pk=ticket_id).first())
    if (ticket is None or ticket.assignee_id is not None or ticket.status not in OPEN_STATUSES
            or ticket.service is None or not ticket.service.auto_assign
            or not ticket.service.is_active):
        return None
    member = _pick(ticket.organization_id, ticket.service.pk)
    if member is None:
        return None
    # Imported here: `create` calls this module, and `changes` imports `create`.
    from atende.tickets.services.changes import update_ticket

    update_ticket(ticket, ACTOR, assignee=member.user)
    member.last_assigned_at = timezone.now()
    member.save(update_fields=["last_assigned_at"])
    return member


def waiting_ticket_ids(membership: Membership) -> list[int]:
    """Unassigned open tickets, oldest first, of the auto-assign services of `membership`."""
    return list(
        Ticket.objects.for_org(membership.organization_id)
        .filter(assignee__isnull=True, status__in=OPEN_STATUSES,
                service__in=membership.services.filter(auto_assign=True, is_active=True))
        .order_by("created_at", "id").values_list("id", flat=True)[: membership.capacity]
    )


def assign_waiting(membership_id: int) -> int:
    """After an agent comes online: hand out their services' waiting tickets in turn.
    Returns how many tickets were assigned."""
    membership = Membership.objects.filter(pk=membership_id).first()
    if membership is None or membership.presence != Presence.ONLINE:
        return 0
    return sum(1 for ticket_id in waiting_ticket_ids(membership) if assign_next(ticket_id))


def set_presence(membership: Membership, presence: str) -> None:
    """Record the agent's presence; coming online hands them waiting tickets (on commit)."""
    if presence not in Presence.values:
        raise ValueError(presence)
    was_online = membership.presence == Presence.ONLINE
    membership.presence = presence
    membership.last_seen_at = timezone.now()
    membership.save(update_fields=["presence", "last_seen_at"])
    if presence == Presence.ONLINE and not was_online:
        from atende.tickets.tasks import assign_waiting_tickets

        membership_id = membership.pk
        transaction.on_commit(lambda: assign_waiting_tickets.enqueue(membership_id))


HEARTBEAT_MIN_INTERVAL = timedelta(seconds=20)


def record_heartbeat(membership: Membership) -> bool:
    """The agent's workspace is open: note when. Writes at most once per
    HEARTBEAT_MIN_INTERVAL per agent (every open tab beats). Returns whether it wrote."""
    now = timezone.now()
    if membership.last_seen_at and now - membership.last_seen_at < HEARTBEAT_MIN_INTERVAL:
        return False
    membership.last_seen_at = now
    Membership.objects.filter(pk=membership.pk).update(last_seen_at=now)
    return True


def expire_absent_agents() -> int:
    """Set offline the online agents whose workspace sent no heartbeat for
    PRESENCE_TIMEOUT_MINUTES (a closed browser never says goodbye), so new tickets wait for
    agents who are there. Run by jobs.expire_absent_agents. Returns how many were set."""
    cutoff = timezone.now() - timedelta(minutes=settings.PRESENCE_TIMEOUT_MINUTES)
    return Membership.objects.filter(
        Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True), presence=Presence.ONLINE,
    ).update(presence=Presence.OFFLINE)


def sweep_waiting(per_service: int = 200) -> int:
    """Hand out waiting tickets of every auto-assign service, oldest first, until no agent of
    the service has room. Catches what events miss: capacity freed by a resolved ticket, a
    lost task. Run by jobs.assign_waiting_tickets. Returns how many were assigned."""
    assigned = 0
    for service in Service.objects.filter(auto_assign=True, is_active=True):
        waiting = (Ticket.objects.for_org(service.organization_id)
                   .filter(service=service, status__in=OPEN_STATUSES, assignee__isnull=True)
                   .order_by("created_at", "id").values_list("id", flat=True)[:per_service])
        for ticket_id in waiting:
            if assign_next(ticket_id) is None:
                break  # nobody has room (or it is being assigned): retried next run
            assigned += 1
    return assigned
