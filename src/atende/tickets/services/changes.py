"""Changing a ticket: status, priority, assignee, service, tags, fields; finalize; reopen.

Every change is one transaction with one audit entry per field, and emits
`ticket.updated` (plus `ticket.status_changed` when the status moved) on commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.events import emit
from atende.tenancy.models import Membership, Service, User
from atende.tickets.errors import InvalidTransition, TicketError
from atende.tickets.models import FinalizationTag, Priority, Status, Ticket
from atende.tickets.payloads import ticket_payload
from atende.tickets.services import audit, sla
from atende.tickets.services.actor import Actor
from atende.tickets.services.create import tags_by_name

UNSET: Any = object()


def check_transition(before: str, after: str) -> None:
    """A closed ticket only comes back by reopening (to open)."""
    if before == Status.CLOSED and after not in (Status.CLOSED, Status.OPEN):
        raise InvalidTransition(
            _("A closed ticket can only be reopened."), field="status"
        )


def _apply_status(ticket: Ticket, status: str, now: Any) -> None:
    ticket.status = status
    if status == Status.RESOLVED:
        ticket.resolved_at = now
    elif status == Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None


@transaction.atomic
def update_ticket(
    ticket: Ticket,
    actor: Actor,
    *,
    status: str = UNSET,
    priority: str = UNSET,
    assignee: User | None = UNSET,
    service: Service | None = UNSET,
    category: str = UNSET,
    subject: str = UNSET,
    tags: Sequence[str] = UNSET,
    custom_fields: dict[str, Any] = UNSET,
) -> Ticket:
    """Apply the given changes (UNSET leaves a field alone). Custom fields must already be
    validated and merged. Raises TicketError for an invalid change, before writing."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = timezone.now()
    changes: list[tuple[str, Any, Any]] = []
    previous_status = ticket.status

    if status is not UNSET and status != ticket.status:
        if status not in Status.values:
            raise TicketError(_("Unknown status."), field="status")
        check_transition(ticket.status, status)
        action = "reopened" if ticket.status in (Status.RESOLVED, Status.CLOSED) \
            and status == Status.OPEN else "status_changed"
        changes.append(("status", ticket.status, status))
        _apply_status(ticket, status, now)
        audit.record(ticket, actor, action, "status", previous_status, status)
    if priority is not UNSET and priority != ticket.priority:
        if priority not in Priority.values:
            raise TicketError(_("Unknown priority."), field="priority")
        changes.append(("priority", ticket.priority, priority))
        ticket.priority = priority
    if assignee is not UNSET and (assignee.pk if assignee else None) != ticket.assignee_id:
        if assignee is not None and not Membership.objects.for_org(ticket.organization_id).filter(
            user=assignee, is_active=True
        ).exists():
            raise TicketError(_("This agent is not in the organisation."), field="assignee_id")
        changes.append(("assignee", ticket.assignee_id, assignee.pk if assignee else None))
        ticket.assignee = assignee
    if service is not UNSET and (service.pk if service else None) != ticket.service_id:
        if service is not None and service.organization_id != ticket.organization_id:
            raise TicketError(_("Unknown service."), field="service_id")
        changes.append(("service", ticket.service_id, service.pk if service else None))
        ticket.service = service
    if category is not UNSET and category != ticket.category:
        changes.append(("category", ticket.category, category[:100]))
        ticket.category = category[:100]
    if subject is not UNSET and subject != ticket.subject:
        if not subject.strip():
            raise TicketError(_("This field is required."), field="subject")
        changes.append(("subject", ticket.subject, subject[:300]))
        ticket.subject = subject[:300]
    if custom_fields is not UNSET and custom_fields != ticket.custom_fields:
        changes.append(("custom_fields", ticket.custom_fields, custom_fields))
        ticket.custom_fields = custom_fields
    current_tags = sorted(t.name for t in ticket.tags.all())
    new_tags = current_tags
    if tags is not UNSET:
        tag_objs = tags_by_name(ticket.organization_id, tags)
        new_tags = [t.name for t in tag_objs]
        if new_tags != current_tags:
            ticket.tags.set(tag_objs)
            changes.append(("tags", current_tags, new_tags))

    if not changes:
        return ticket
    for field, before, after in changes:
        if field != "status":
            audit.record(ticket, actor, "changed", field, before, after)
    changed = {c[0] for c in changes}
    if changed & {"status", "priority", "service"}:
        sla.track(ticket, now, repolicy="service" in changed)
    ticket.updated_at = now
    ticket.save()
    payload = ticket_payload(ticket, new_tags)
    emit(ticket.organization_id, "ticket.updated",
         {**payload, "changes": [c[0] for c in changes]})
    if ticket.status != previous_status:
        emit(ticket.organization_id, "ticket.status_changed",
             {**payload, "previous_status": previous_status})
    return ticket


@transaction.atomic
def finalize(ticket: Ticket, actor: Actor, tag: FinalizationTag, *,
             resolve: bool = True) -> Ticket:
    """Finish the attendance with a finalization tag ("tabulação").

    Every use is its own audit entry, also when the same tag is applied again. With
    `resolve` the ticket becomes resolved (Consumidor.gov.br finalizes without it).
    """
    if tag.organization_id != ticket.organization_id or not tag.is_active:
        raise TicketError(_("Unknown finalization tag."), field="finalization_tag_id")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = timezone.now()
    previous_status = ticket.status
    audit.record(ticket, actor, "finalized", "finalization_tag", ticket.finalization_tag_id,
                 {"id": tag.pk, "name": tag.name})
    ticket.finalization_tag = tag
    if resolve and ticket.status in (Status.NEW, Status.OPEN, Status.PENDING):
        _apply_status(ticket, Status.RESOLVED, now)
        audit.record(ticket, actor, "status_changed", "status", previous_status, Status.RESOLVED)
        sla.track(ticket, now)
    ticket.updated_at = now
    ticket.save()
    payload = ticket_payload(ticket)
    emit(ticket.organization_id, "ticket.updated", {**payload, "changes": ["finalization_tag"]})
    if ticket.status != previous_status:
        emit(ticket.organization_id, "ticket.status_changed",
             {**payload, "previous_status": previous_status})
    return ticket
