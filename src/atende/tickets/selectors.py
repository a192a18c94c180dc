"""Reads of tickets, always scoped to one organisation."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from atende import json_input
from atende.ids import parse_id
from atende.tenancy.models import Membership
from atende.tickets.models import AuditEntry, Message, Ticket
from atende.tickets.visibility import restrict


class BadCursor(ValueError):
    pass


def ticket_for(organization_id: int, ticket_id: int,
               visible_to: Membership | None = None) -> Ticket:
    """Raises Ticket.DoesNotExist for another organisation's ticket, as for a missing one
    (and, with `visible_to`, for a ticket that agent may not see)."""
    qs: QuerySet[Ticket] = Ticket.objects.for_org(organization_id)
    if visible_to is not None:
        qs = restrict(qs, visible_to)
    return (
        qs
        .select_related("contact", "assignee", "service", "channel", "finalization_tag")
        .prefetch_related("tags", "contact__identities")
        .get(pk=ticket_id)
    )


def timeline(ticket: Ticket) -> list[Message | AuditEntry]:
    """Messages (with attachments) and audit entries, oldest first."""
    messages = list(
        Message.objects.for_org(ticket.organization_id).filter(ticket=ticket)
        .select_related("author_user", "channel")
        .prefetch_related("attachments")
    )
    entries = list(
        AuditEntry.objects.for_org(ticket.organization_id).filter(ticket=ticket)
        .select_related("actor_user")
    )
    items: list[Message | AuditEntry] = [*messages, *entries]
    items.sort(key=lambda item: (item.created_at, 0 if isinstance(item, AuditEntry) else 1,
                                 item.pk))
    return items


# The ticket screen shows this many newest entries; older ones load a page at a time.
TIMELINE_PAGE = 50
AUDIT, MESSAGE = 0, 1  # at the same instant an audit entry sorts before a message


@dataclass(frozen=True, order=True)
class TimelineKey:
    """Where an entry sits in the timeline: (created_at, kind, id), as `timeline` sorts."""

    at: datetime
    kind: int
    pk: int

    @classmethod
    def of(cls, item: Message | AuditEntry) -> TimelineKey:
        return cls(item.created_at, AUDIT if isinstance(item, AuditEntry) else MESSAGE,
                   item.pk)

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), self.kind, self.pk]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> TimelineKey:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            at, kind, pk = json_input.loads(base64.urlsafe_b64decode(padded))
            key = cls(datetime.fromisoformat(at), int(kind), int(pk))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise BadCursor(cursor) from exc
        if key.kind not in (AUDIT, MESSAGE) or key.at.tzinfo is None:
            raise BadCursor(cursor)
        return key


def _keyset(key: TimelineKey, kind: int, *, older: bool) -> Q:
    """Rows of a table holding entries of `kind` strictly older than `key` (older=True) or
    at `key` and newer (older=False)."""
    if older:
        same = Q(pk__lt=key.pk) if kind == key.kind else Q() if kind < key.kind else Q(pk__in=[])
        return Q(created_at__lt=key.at) | (Q(created_at=key.at) & same)
    same = Q(pk__gte=key.pk) if kind == key.kind else Q() if kind > key.kind else Q(pk__in=[])
    return Q(created_at__gt=key.at) | (Q(created_at=key.at) & same)


def timeline_page(ticket: Ticket, *, before: TimelineKey | None = None,
                  since: TimelineKey | None = None, limit: int = TIMELINE_PAGE,
                  newest_audit: list[AuditEntry] | None = None,
                  ) -> tuple[list[Message | AuditEntry], bool]:
    """The newest `limit` entries older than `before` / from `since` on, oldest first, and
    whether older ones remain. Keyset on (created_at, id) in each table: the cost is one
    page's whatever the ticket's length (indexes message_ticket_time, audit_ticket_time).

    `newest_audit`: the ticket's newest audit entries, newest first (actor selected), when
    the caller has read at least `limit + 1` of them (or all) already; only for the first
    page (no `before`, no `since`): it saves reading the same rows twice."""
    messages = (Message.objects.for_org(ticket.organization_id).filter(ticket=ticket)
                .select_related("author_user", "channel").prefetch_related("attachments"))
    entries = (AuditEntry.objects.for_org(ticket.organization_id).filter(ticket=ticket)
               .select_related("actor_user"))
    for key, older in ((before, True), (since, False)):
        if key is not None:
            messages = messages.filter(_keyset(key, MESSAGE, older=older))
            entries = entries.filter(_keyset(key, AUDIT, older=older))
    newest_first = ("-created_at", "-id")
    if newest_audit is None or before is not None or since is not None:
        newest_audit = list(entries.order_by(*newest_first)[:limit + 1])
    items: list[Message | AuditEntry] = [
        *messages.order_by(*newest_first)[:limit + 1],
        *newest_audit[:limit + 1],
    ]
    items.sort(key=TimelineKey.of, reverse=True)
    page = items[:limit]
    page.reverse()
    has_older = len(items) > limit
    if since is not None and not has_older:
        # Everything from `since` fitted: are there entries before it? (two LIMIT 1 reads)
        has_older = (
            Message.objects.for_org(ticket.organization_id).filter(ticket=ticket)
            .filter(_keyset(since, MESSAGE, older=True)).exists()
            or AuditEntry.objects.for_org(ticket.organization_id).filter(ticket=ticket)
            .filter(_keyset(since, AUDIT, older=True)).exists())
    return page, has_older


@dataclass(frozen=True)
class TicketFilters:
    status: list[str] | None = None
    channel: str | None = None  # a channel kind ("email") or a channel id ("12")
    service_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    priority: list[str] | None = None
    tag: str | None = None
    updated_since: datetime | None = None


def encode_cursor(ticket: Ticket) -> str:
    raw = json.dumps([ticket.updated_at.isoformat(), ticket.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        updated, pk = json_input.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(updated), int(pk)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadCursor(cursor) from exc


def tickets_page(
    organization_id: int, filters: TicketFilters, *, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    """One page, newest update first, keyset-paginated on (updated_at, id): constant cost
    per page whatever the table size, stable while tickets change."""
    qs: QuerySet[Ticket] = Ticket.objects.for_org(organization_id)
    qs = apply_filters(qs, filters)
    if cursor:
        updated, pk = decode_cursor(cursor)
        qs = qs.filter(Q(updated_at__lt=updated) | Q(updated_at=updated, pk__lt=pk))
    rows = list(
        qs.select_related("contact", "finalization_tag")
        .prefetch_related("tags", "contact__identities").order_by("-updated_at", "-id")[
            : limit + 1
        ]
    )
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def apply_filters(qs: QuerySet[Ticket], f: TicketFilters) -> QuerySet[Ticket]:
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.channel:
        channel_id = parse_id(f.channel)
        qs = qs.filter(channel_id=channel_id) if channel_id is not None \
            else qs.filter(origin=f.channel)
    if f.service_id is not None:
        qs = qs.filter(service_id=f.service_id)
    if f.unassigned:
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee_id is not None:
        qs = qs.filter(assignee_id=f.assignee_id)
    if f.priority:
        qs = qs.filter(priority__in=f.priority)
    if f.tag:
        qs = qs.filter(tags__name=f.tag)
    if f.updated_since is not None:
        qs = qs.filter(updated_at__gte=f.updated_since)
    return qs
