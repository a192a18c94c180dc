"""GET /api/v1/search: the workspace's search for integrations, with the same rules (a key
issued by an agent finds only the tickets that agent may see)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from atende.api_errors import ErrorOut
from atende.search.everything import KINDS, search_everything
from atende.tenancy.api_auth import org_key
from atende.tenancy.api_keys import active_issuer

router = Router(tags=["search"])


class SearchQuery(Schema):
    q: str = Field(default="", max_length=200, description="Words, a protocol, an e-mail, "
                   "a phone or a CPF. Accents and plurals do not matter; empty finds nothing.")
    kinds: list[str] | None = Field(default=None, description="tickets, contacts, articles")
    limit: int = Field(default=20, ge=1, le=50)


class TicketHitOut(Schema):
    id: int
    protocol: str
    subject: str
    status: str
    snippet: str = Field(description="HTML: escaped text, matches in <mark>.")
    rank: float


class ContactHitOut(Schema):
    id: int
    name: str
    snippet: str
    rank: float


class ArticleHitOut(Schema):
    id: int
    slug: str
    title: str
    public: bool
    snippet: str
    rank: float


class SearchOut(Schema):
    query: str
    tickets: list[TicketHitOut]
    contacts: list[ContactHitOut]
    articles: list[ArticleHitOut]


@router.get("/search", response={200: SearchOut, 400: ErrorOut, 401: ErrorOut,
                                  403: ErrorOut, 429: ErrorOut},
            summary="Search tickets, messages, contacts and articles")
def search(request: HttpRequest, q: Query[SearchQuery]) -> SearchOut:
    key = org_key(request)
    membership = active_issuer(key) if key.created_by_id else None
    kinds = tuple(k for k in (q.kinds or KINDS) if k in KINDS) or KINDS
    found = search_everything(membership, q.q, organization_id=key.organization_id,
                              kinds=kinds, limit=q.limit)
    return SearchOut(
        query=found.query,
        tickets=[TicketHitOut(id=h.ticket.pk, protocol=h.ticket.protocol,
                              subject=h.ticket.subject, status=h.ticket.status,
                              snippet=str(h.snippet), rank=h.rank) for h in found.tickets],
        contacts=[ContactHitOut(id=h.contact.pk, name=h.contact.name, snippet=str(h.snippet),
                                rank=h.rank) for h in found.contacts],
        articles=[ArticleHitOut(id=h.article.pk, slug=h.article.slug, title=h.title,
                                public=h.article.is_public, snippet=str(h.snippet),
                                rank=h.rank) for h in found.articles])
