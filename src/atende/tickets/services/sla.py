"""SLA clocks (CORE-13): which policy a ticket follows, when its first response and its
resolution are due, and the sweep that marks missed targets.

Rules, in one place:
- The policy is the ticket's channel's, else its service's, else the organisation's
  default; it is chosen when the ticket opens and again when its service changes (a
  ticket's channel never changes). Editing a policy applies to tickets opened or
  re-routed afterwards; running clocks keep their due moments.
- Both targets count from the ticket's creation, in open time of the policy's calendar.
- First response: met by the first public answer (`first_response_at`); runs while the
  ticket is new, open or pending.
- Resolution: met by resolving or closing. It stops while the ticket is pending (waiting
  on the customer), resolved or closed; the open time it stood still is added to the
  target when it runs again (a reopened ticket is not late for the days it was solved).
- A breach is recorded once per clock, with the moment the target was missed; it stays
  recorded if the ticket is later re-routed to a looser policy (it did happen).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.utils import timezone

from atende.automation.business_time import (
    add_business_minutes,
    add_business_time,
    business_time_between,
)
from atende.channels.models import Channel
from atende.events import emit
from atende.tenancy.models import Service
from atende.tickets.models import (
    OPEN_STATUSES,
    SlaPolicy,
    SlaPolicyChannel,
    SlaPolicyService,
    Status,
    Ticket,
)
from atende.tickets.payloads import ticket_payload
from atende.tickets.services import audit
from atende.tickets.services.actor import Actor

# The resolution clock stands still in these statuses.
STOPPED = frozenset({Status.PENDING, Status.RESOLVED, Status.CLOSED})
CLOCK_FIELDS = ("sla_policy_id", "first_response_due_at", "resolution_due_at", "sla_paused_at",
                "sla_paused_seconds", "sla_due_at", "sla_check_at")
BATCH = 200
# A year: longer targets mean nothing (the form refuses them; a value set elsewhere, e.g.
# in the admin, is capped so business-time arithmetic stays bounded).
MAX_TARGET_MINUTES = 366 * 24 * 60
SWEEP_ACTOR = Actor(label="system:sla")


def resolve_policy(organization_id: int, channel_id: int | None,
                   service_id: int | None) -> SlaPolicy | None:
    """The active policy of the channel, else of the service, else the default (one query
    over the organisation's policies, which are few)."""
    rank = Case(
        When(Exists(SlaPolicyChannel.objects.filter(policy=OuterRef("pk"),
                                                    channel_id=channel_id or 0)), then=Value(0)),
        When(Exists(SlaPolicyService.objects.filter(policy=OuterRef("pk"),
                                                    service_id=service_id or 0)), then=Value(1)),
        When(is_default=True, then=Value(2)),
        default=Value(3), output_field=IntegerField(),
    )
    return (SlaPolicy.objects.for_org(organization_id).filter(is_active=True)
            .annotate(rank=rank).filter(rank__lt=3).select_related("calendar")
            .order_by("rank", "pk").first())


def _policy_of(ticket: Ticket) -> SlaPolicy | None:
    if ticket.sla_policy_id is None:
        return None
    cached = Ticket.sla_policy.is_cached(ticket)  # type: ignore[attr-defined]
    if cached and ticket.sla_policy is not None and \
            SlaPolicy.calendar.is_cached(ticket.sla_policy):  # type: ignore[attr-defined]
        return ticket.sla_policy
    policy = SlaPolicy.objects.select_related("calendar").filter(pk=ticket.sla_policy_id).first()
    ticket.sla_policy = policy
    return policy


def first_response_running(ticket: Ticket) -> bool:
    return (ticket.first_response_due_at is not None and ticket.first_response_at is None
            and ticket.status in OPEN_STATUSES)


def resolution_running(ticket: Ticket) -> bool:
    return ticket.resolution_due_at is not None and ticket.status not in STOPPED


def track(ticket: Ticket, now: datetime, *, repolicy: bool = False) -> list[str]:
    """Bring the ticket's clocks up to date after a change of status, priority, service or
    first response (call before saving, inside the change's transaction). Returns the
    fields it changed, for `save(update_fields=...)`. Costs no query for a ticket without
    a policy unless `repolicy` asks to choose the policy again."""
    before = [getattr(ticket, f) for f in CLOCK_FIELDS]
    if repolicy:
        policy = resolve_policy(ticket.organization_id, ticket.channel_id, ticket.service_id)
        ticket.sla_policy = policy
    else:
        policy = _policy_of(ticket)
    calendar = policy.calendar if policy else None

    stopped = ticket.status in STOPPED
    if stopped and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    elif not stopped and ticket.sla_paused_at is not None:
        stood = business_time_between(calendar, ticket.sla_paused_at, now)
        ticket.sla_paused_seconds += int(stood.total_seconds())
        ticket.sla_paused_at = None

    first, resolution = policy.targets(ticket.priority) if policy else (None, None)
    first = min(first, MAX_TARGET_MINUTES) if first else None
    resolution = min(resolution, MAX_TARGET_MINUTES) if resolution else None
    ticket.first_response_due_at = (add_business_minutes(calendar, ticket.created_at, first)
                                    if first else None)
    ticket.resolution_due_at = (
        add_business_time(calendar, ticket.created_at,
                          timedelta(minutes=resolution, seconds=ticket.sla_paused_seconds))
        if resolution else None)

    running, unbreached = [], []
    if first_response_running(ticket):
        assert ticket.first_response_due_at is not None
        running.append(ticket.first_response_due_at)
        if ticket.first_response_breached_at is None:
            unbreached.append(ticket.first_response_due_at)
    if resolution_running(ticket):
        assert ticket.resolution_due_at is not None
        running.append(ticket.resolution_due_at)
        if ticket.resolution_breached_at is None:
            unbreached.append(ticket.resolution_due_at)
    ticket.sla_due_at = min(running, default=None)
    ticket.sla_check_at = min(unbreached, default=None)
    return [f.removesuffix("_id") for f, old in zip(CLOCK_FIELDS, before, strict=True)
            if getattr(ticket, f) != old]


def due_breach_ids(now: datetime) -> list[int]:
    """Tickets with a running clock past due and not yet marked (the ticket_sla_check
    partial index: only tickets with such a clock are in it)."""
    return list(Ticket.objects.filter(sla_check_at__lte=now).order_by("sla_check_at")
                .values_list("pk", flat=True)[:BATCH])


@transaction.atomic
def mark_breaches(ticket_id: int, now: datetime | None = None) -> list[str]:
    """Record the clocks of one ticket that are past due, once each: the row lock and the
    re-check make concurrent sweeps record a breach a single time. Returns the clocks."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None or ticket.sla_check_at is None or ticket.sla_check_at > now:
        return []
    missed: list[tuple[str, datetime]] = []
    if first_response_running(ticket) and ticket.first_response_breached_at is None \
            and ticket.first_response_due_at and ticket.first_response_due_at <= now:
        ticket.first_response_breached_at = ticket.first_response_due_at
        missed.append(("first_response", ticket.first_response_due_at))
    if resolution_running(ticket) and ticket.resolution_breached_at is None \
            and ticket.resolution_due_at and ticket.resolution_due_at <= now:
        ticket.resolution_breached_at = ticket.resolution_due_at
        missed.append(("resolution", ticket.resolution_due_at))
    fields = track(ticket, now)
    ticket.save(update_fields=sorted({*fields, "sla_check_at", "first_response_breached_at",
                                      "resolution_breached_at"}))
    payload: dict[str, Any] | None = None
    for clock, due in missed:
        audit.record(ticket, SWEEP_ACTOR, "sla_breached", clock, None, due.isoformat())
        payload = payload or ticket_payload(ticket)
        emit(ticket.organization_id, "ticket.sla_breached",
             {**payload, "sla": {"clock": clock, "due_at": due.isoformat(),
                                 "policy_id": ticket.sla_policy_id}})
    return [clock for clock, _due in missed]


def sweep_breaches(now: datetime | None = None) -> int:
    """The periodic job: every clock past due gets its breach recorded. Returns how many."""
    now = now or timezone.now()
    count = 0
    for _round in range(50):  # bounded: a huge backlog continues on the next run
        ids = due_breach_ids(now)
        for ticket_id in ids:
            count += len(mark_breaches(ticket_id, now))
        if len(ids) < BATCH:
            break
    return count


@transaction.atomic
def set_scope(policy: SlaPolicy, channels: list[Channel], services: list[Service]) -> None:
    """Make exactly these channels and services follow `policy` (the form checked that no
    other policy holds them)."""
    org_id = policy.organization_id
    SlaPolicyChannel.objects.filter(policy=policy).exclude(
        channel__in=channels).delete()
    SlaPolicyService.objects.filter(policy=policy).exclude(
        service__in=services).delete()
    have_channels = set(SlaPolicyChannel.objects.filter(policy=policy)
                        .values_list("channel_id", flat=True))
    have_services = set(SlaPolicyService.objects.filter(policy=policy)
                        .values_list("service_id", flat=True))
    SlaPolicyChannel.objects.bulk_create(
        [SlaPolicyChannel(organization_id=org_id, policy=policy, channel=c)
         for c in channels if c.pk not in have_channels])
    SlaPolicyService.objects.bulk_create(
        [SlaPolicyService(organization_id=org_id, policy=policy, service=s)
         for s in services if s.pk not in have_services])
