"""The search behind the results page and the API: ranked hits with highlighted snippets.

Tickets and their messages follow tickets.visibility (a restricted agent finds only the
tickets they may see); contacts and agent-readable articles are the organisation's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString

from atende.contacts.models import Contact, ContactIdentity
from atende.fulltext import indexes
from atende.fulltext.query import matching
from atende.fulltext.text import Terms, highlight
from atende.kb.models import Language
from atende.kb.search import ArticleHit, search_articles
from atende.tenancy.models import Membership
from atende.tickets.models import Direction, Message, Ticket
from atende.tickets.queue_query import PROTOCOL
from atende.tickets.visibility import restrict, visible_tickets

KINDS = ("tickets", "contacts", "articles")
# Message hits are read this many times the page size, then grouped by ticket.
MESSAGE_CANDIDATES = 5
DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class TicketHit:
    ticket: Ticket
    snippet: SafeString
    rank: float


@dataclass(frozen=True)
class ContactHit:
    contact: Contact
    snippet: SafeString
    rank: float


@dataclass
class Results:
    query: str
    tickets: list[TicketHit] = field(default_factory=list)
    contacts: list[ContactHit] = field(default_factory=list)
    articles: list[ArticleHit] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.tickets or self.contacts or self.articles)


def search_everything(membership: Membership | None, text: str, *,
                      organization_id: int | None = None, kinds: tuple[str, ...] = KINDS,
                      limit: int = 20, language: str = Language.PT_BR) -> Results:
    """Hits of each kind, best first. `membership` None (an organisation's own API key, with
    `organization_id`) sees every ticket of the organisation."""
    text = text.strip()[:200]
    results = Results(query=text)
    if not text:
        return results
    terms = Terms.parse(text)
    org_id = membership.organization_id if membership else organization_id
    if org_id is None:
        raise ValueError("search_everything needs a membership or an organisation")
    if "tickets" in kinds:
        results.tickets = _tickets(org_id, membership, text, terms, limit)
    if "contacts" in kinds:
        results.contacts = _contacts(org_id, text, terms, limit)
    if "articles" in kinds and terms:
        results.articles = search_articles(org_id, text, agents=True, language=language,
                                           limit=limit, fallback=False)
    return results


def _tickets(org_id: int, membership: Membership | None, text: str, terms: Terms,
             limit: int) -> list[TicketHit]:
    visible: QuerySet[Ticket] = (visible_tickets(membership) if membership
                                 else Ticket.objects.for_org(org_id))
    protocol = PROTOCOL.match(text)
    if protocol:
        ticket = visible.filter(number=int(protocol.group(1))).select_related("contact").first()
        return [TicketHit(ticket, SafeString(escape(ticket.subject)), 1.0)] if ticket else []
    if not terms:
        return []
    best: dict[int, float] = {}
    snippet_source: dict[int, str] = {}
    # `rank` is matching()'s annotation, which the stubs cannot see.
    ranked_tickets = matching(visible, indexes.TICKET, terms, org_id).order_by(
        "-rank", "-pk")  # type: ignore[misc]
    for pk, subject, description, rank in ranked_tickets.values_list(  # type: ignore[misc]
            "pk", "subject", "description", "rank")[:limit]:
        best[pk], snippet_source[pk] = rank, f"{subject}\n{description}"
    messages: QuerySet[Message] = Message.objects.for_org(org_id).exclude(
        direction=Direction.SYSTEM)
    if membership:
        messages = restrict(messages, membership, prefix="ticket__")
    ranked_messages = matching(messages, indexes.MESSAGE, terms, org_id).order_by(
        "-rank", "-pk")  # type: ignore[misc]
    for ticket_id, body, rank in ranked_messages.values_list(  # type: ignore[misc]
            "ticket_id", "text", "rank")[: limit * MESSAGE_CANDIDATES]:
        if rank > best.get(ticket_id, float("-inf")):
            best[ticket_id], snippet_source[ticket_id] = rank, body
    order = sorted(best, key=lambda pk: (-best[pk], -pk))[:limit]
    tickets = Ticket.objects.for_org(org_id).select_related("contact").in_bulk(order)
    return [TicketHit(tickets[pk], highlight(snippet_source[pk], terms.stems), best[pk])
            for pk in order if pk in tickets]


def _contacts(org_id: int, text: str, terms: Terms, limit: int) -> list[ContactHit]:
    live = Contact.objects.for_org(org_id).filter(merged_into__isnull=True)
    hits: dict[int, ContactHit] = {}
    if terms:
        for contact in matching(live, indexes.CONTACT, terms, org_id).order_by(
                "-rank", "-pk")[:limit]:
            hits[contact.pk] = ContactHit(contact, highlight(contact.name, terms.stems),
                                          contact.rank)  # type: ignore[attr-defined]
    # E-mail, phone and CPF are identifiers: matched as typed, or by their digits.
    digits = DIGITS.sub("", text)
    by_identity = Q(value__icontains=text)
    if len(digits) >= 4:
        by_identity |= Q(value__contains=digits)
    identities = ContactIdentity.objects.for_org(org_id).filter(
        by_identity, contact__merged_into__isnull=True).select_related("contact")[:limit]
    for identity in identities:
        if identity.contact_id not in hits:
            hits[identity.contact_id] = ContactHit(
                identity.contact, _mark(identity.value, text, digits), 0.0)
    return sorted(hits.values(), key=lambda h: -h.rank)[:limit]


def _mark(value: str, text: str, digits: str) -> SafeString:
    for needle in (text, digits):
        at = value.lower().find(needle.lower()) if needle else -1
        if at >= 0:
            end = at + len(needle)
            return SafeString(f"{escape(value[:at])}<mark>{escape(value[at:end])}</mark>"
                              f"{escape(value[end:])}")
    return SafeString(escape(value))
