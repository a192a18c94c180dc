"""The unified queue (CORE-6): an agent's views, filters, sorts and search, one page at a
time, always inside the agent's organisation.

Every page costs the same few queries whatever its size: the row query (with the last
message as a subquery), one read of the rows' tag names and one capped count per view.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import (
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Left

from atende.contacts.models import Contact, ContactIdentity
from atende.fulltext import indexes as fulltext
from atende.fulltext.query import matching
from atende.fulltext.text import Terms
from atende.ids import parse_id
from atende.tenancy.models import Membership
from atende.tickets.models import (
    OPEN_STATUSES,
    PRIORITY_ORDER,
    WAITING_SINCE,
    Message,
    Priority,
    Status,
    Ticket,
)
from atende.tickets.visibility import visibility_branches, visible_tickets

PAGE_SIZE = 50
# What a queue row prints (workspace.queue_rows): the rest of the ticket (description,
# custom fields, SLA details) and the related rows' other columns are not read.
ROW_FIELDS = (
    "organization_id", "number", "subject", "origin", "priority", "status", "created_at",
    "updated_at", "last_inbound_at", "sla_due_at", "contact", "assignee", "service",
)
# The names a row prints of its contact, assignee and service, as columns of the ticket:
# no Contact, User and Service instances per row (~150 models a page).
ROW_NAMES = {
    "contact_name": F("contact__name"), "assignee_name": F("assignee__name"),
    "assignee_email": F("assignee__email"), "service_name": F("service__name"),
}
# The queue shows a line of the last message: no need to read a whole e-mail per row.
LAST_MESSAGE_CHARS = 91
VIEWS = ("mine", "unassigned", "open", "pending", "resolved")
SORTS = ("updated", "waiting", "priority", "sla")
PROTOCOL = re.compile(r"^\s*(?:tkt-?)?0*(\d{1,15})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class QueueFilters:
    view: str = "open"
    channel: str = ""
    status: str = ""
    service_id: int | None = None
    assignee_id: int | None = None
    priority: str = ""
    tag: str = ""
    q: str = ""
    sort: str = "updated"
    page: int = 1

    @classmethod
    def from_query(cls, params: Any) -> QueueFilters:
        """Parse a query string leniently: an unknown or malformed value is ignored."""
        def int_or_none(name: str) -> int | None:
            return parse_id(str(params.get(name, "")))

        view = params.get("view", "open")
        sort = params.get("sort", "updated")
        status = params.get("status", "")
        priority = params.get("priority", "")
        return cls(
            view=view if view in VIEWS else "open",
            channel=str(params.get("channel", ""))[:30],
            status=status if status in Status.values else "",
            service_id=int_or_none("service"),
            assignee_id=int_or_none("assignee"),
            priority=priority if priority in Priority.values else "",
            tag=str(params.get("tag", "")).strip()[:60],
            q=str(params.get("q", "")).strip()[:200],
            sort=sort if sort in SORTS else "updated",
            page=max(1, int_or_none("page") or 1),
        )


def view_filter(view: str, user_id: int) -> Q:
    open_q = Q(status__in=OPEN_STATUSES)
    return {
        "mine": open_q & Q(assignee_id=user_id),
        "unassigned": open_q & Q(assignee__isnull=True),
        "open": open_q,
        "pending": Q(status=Status.PENDING),
        "resolved": Q(status__in=(Status.RESOLVED, Status.CLOSED)),
    }[view]


# Counts stop here: each is a LIMITed index scan, so the page costs the same at 10k or 1M
# tickets; past the cap the view shows "1000+".
COUNT_CAP = 1000


# A signed term of a view's count: the ids of some of its tickets.
Term = tuple[int, QuerySet[Ticket, dict[str, Any]]]


def count_terms(membership: Membership) -> dict[str, list[Term]]:
    """Each view's visible tickets as the signed terms of a count, each an index-only scan.

    An agent who sees every ticket, or any agent's "mine": one term. Otherwise the rule is
    "assigned to me OR of my services", and that OR matches no index (a sequential scan of
    the table at 1M tickets), so the count is |own| + |of my services| - |both|, each read
    on its own index: ticket_org_assignee for the first, ticket_org_service_assignee for
    the other two. Nobody's tickets ("unassigned") are seen only through a service.
    One filter per term: building the querysets is most of this function's CPU time."""
    tickets = Ticket.objects.for_org(membership.organization_id).values("pk")
    branches = visibility_branches(membership)
    terms: dict[str, list[Term]] = {}
    for view in VIEWS:
        in_view = view_filter(view, membership.user_id)
        if branches is None or view == "mine":  # an agent always sees their own tickets
            terms[view] = [(1, tickets.filter(in_view))]
            continue
        own, of_services = branches
        if view == "unassigned":
            terms[view] = [(1, tickets.filter(in_view & of_services))]
        else:
            terms[view] = [(1, tickets.filter(in_view & own)),
                           (1, tickets.filter(in_view & of_services)),
                           (-1, tickets.filter(in_view & own & of_services))]
    return terms


def capped_total(terms: list[tuple[int, int]]) -> int:
    """A count from its signed terms, each counted up to COUNT_CAP: COUNT_CAP when an added
    term reached it (the union holds at least as many); otherwise every term is exact (a
    subtracted one is a subset of an added one), and so is the sum, capped like the rest."""
    if any(sign > 0 and count >= COUNT_CAP for sign, count in terms):
        return COUNT_CAP
    return min(COUNT_CAP, sum(sign * count for sign, count in terms))


def view_counts(membership: Membership) -> dict[str, int]:
    """Tickets in every view (up to COUNT_CAP each), in one statement and one round trip:
    `SELECT (SELECT COUNT(*) FROM (<term> LIMIT cap)), ...` over every view's terms
    (count_terms). The inner statements are the ORM's own (tenant and visibility filters
    included), so each reads at most COUNT_CAP index entries."""
    connection = connections[Ticket.objects.db]
    terms = count_terms(membership)
    parts, params = [], []
    for n, (_sign, qs) in enumerate(t for v in VIEWS for t in terms[v]):
        qs.query.set_limits(high=COUNT_CAP)  # a queryset of our own: no clone needed
        sql, inner_params = qs.query.get_compiler(connection=connection).as_sql()
        # The ORM compiled `sql` with placeholders; nothing here comes from the request.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS term_{n})")  # noqa: S608
        params.extend(inner_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = iter(cursor.fetchone())
    return {v: capped_total([(sign, int(next(row))) for sign, _qs in terms[v]])
            for v in VIEWS}


def search(qs: QuerySet[Ticket], text: str, organization_id: int) -> QuerySet[Ticket]:
    """Protocol; or the full-text index (atende.fulltext) over subject and description,
    message text and contact name, plus a contact identity (e-mail, phone, CPF) containing
    the text. Every word is needed, in any accent and number ("boletos" finds "boleto")."""
    match = PROTOCOL.match(text)
    if match:
        return qs.filter(number=int(match.group(1)))
    terms = Terms.parse(text)
    identities = ContactIdentity.objects.for_org(organization_id).filter(
        value__icontains=text).values("contact_id")
    found = Q(contact_id__in=identities)
    if terms:
        tickets = matching(Ticket.objects.all(), fulltext.TICKET, terms, organization_id,
                           rank=False)
        messages = matching(Message.objects.all(), fulltext.MESSAGE, terms,
                            organization_id, rank=False)
        contacts = matching(Contact.objects.all(), fulltext.CONTACT, terms, organization_id,
                            rank=False)
        found |= (Q(pk__in=tickets.values("pk")) | Q(pk__in=messages.values("ticket_id"))
                  | Q(contact_id__in=contacts.values("pk")))
    return qs.filter(found)


def queue_for(membership: Membership, f: QueueFilters,
              only: Collection[int] | None = None) -> tuple[list[Ticket], bool]:
    """One page of the agent's queue (only tickets they may see) and whether there is a
    next page. With `only`: those of these tickets that belong in the queue (the live
    update of a few rows), whatever their page."""
    qs: QuerySet[Ticket] = visible_tickets(membership).filter(
        view_filter(f.view, membership.user_id))
    if only is not None:
        qs = qs.filter(pk__in=list(only))
    if f.channel:
        channel_id = parse_id(f.channel)
        qs = qs.filter(channel_id=channel_id) if channel_id is not None \
            else qs.filter(origin=f.channel)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.service_id is not None:
        qs = qs.filter(service_id=f.service_id)
    if f.assignee_id is not None:
        qs = qs.filter(assignee_id=f.assignee_id)
    if f.priority:
        qs = qs.filter(priority=f.priority)
    if f.tag:
        qs = qs.filter(tags__name=f.tag)
    if f.q:
        qs = search(qs, f.q, membership.organization_id)
    last_text = Message.objects.filter(ticket_id=OuterRef("pk")).exclude(
        direction="note").order_by("-created_at", "-id").values(
        snippet=Left("text", LAST_MESSAGE_CHARS))[:1]
    qs = qs.annotate(last_message=Subquery(last_text),
                     waiting_since=WAITING_SINCE)
    if f.sort == "waiting":
        qs = qs.order_by("waiting_since", "id")
    elif f.sort == "sla":
        # Tickets without a running clock last (ticket_org_sla_due_id index).
        qs = qs.order_by(F("sla_due_at").asc(nulls_last=True), "id")
    elif f.sort == "priority":
        qs = qs.order_by(PRIORITY_ORDER, "-updated_at", "-id")
    else:
        qs = qs.order_by("-updated_at", "-id")
    start = (f.page - 1) * PAGE_SIZE if only is None else 0
    rows: list[Ticket] = list(
        qs.annotate(**ROW_NAMES).only(*ROW_FIELDS)[start:start + PAGE_SIZE + 1])
    names = tag_names(membership.organization_id, [t.pk for t in rows[:PAGE_SIZE]])
    for t in rows:
        t.tag_names = names.get(t.pk, [])  # type: ignore[attr-defined]
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def tag_names(organization_id: int, ticket_ids: list[int]) -> dict[int, list[str]]:
    """Tag names per ticket, alphabetical, in one query (no Tag instances or related
    managers per row: they were a large share of the row query's Python time)."""
    if not ticket_ids:
        return {}
    names: dict[int, list[str]] = {}
    pairs = (Ticket.tags.through.objects
             .filter(ticket_id__in=ticket_ids, tag__organization_id=organization_id)
             .order_by("tag__name").values_list("ticket_id", "tag__name"))
    for ticket_id, name in pairs:
        names.setdefault(ticket_id, []).append(name)
    return names
