"""The search results page, the ticket screen's article panel and the agents' article
reading page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from atende.kb.public_views import language
from atende.kb.search import readable_articles, related_to_ticket
from atende.search.everything import search_everything
from atende.tenancy.models import Membership
from atende.tickets.models import Direction
from atende.workspace.access import agent_required
from atende.workspace.views.ticket import load_ticket

# The customer's latest messages that feed the article panel.
PANEL_MESSAGES = 3


@require_GET
@agent_required
def search_results(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    query = request.GET.get("q", "").strip()[:200]
    results = search_everything(membership, query, language=language())
    return render(request, "workspace/search.html", {"query": query, "results": results})


@require_GET
@agent_required
def ticket_articles(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Articles matching the ticket's subject and the customer's latest messages, each with
    the public link to insert into the answer (agents-only ones are for reading)."""
    ticket = load_ticket(request, ticket_id)
    texts = list(ticket.messages.filter(direction=Direction.INBOUND).order_by(
        "-created_at", "-id").values_list("text", flat=True)[:PANEL_MESSAGES])
    hits = related_to_ticket(ticket.organization_id, ticket.subject, texts,
                             language=language())
    slug = request.membership.organization.slug  # type: ignore[attr-defined]
    rows = [(hit, request.build_absolute_uri(reverse("kb-public:article",
                                                      args=[slug, hit.article.slug]))
             if hit.article.is_public else "") for hit in hits]
    return render(request, "workspace/ticket_articles.html", {"rows": rows})


@require_GET
@agent_required
def kb_article(request: HttpRequest, article_id: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    article = get_object_or_404(readable_articles(membership.organization_id, agents=True),
                                pk=article_id)
    versions = {v.language: v for v in article.translations.all()}
    version = versions.get(language()) or next(iter(versions.values()))
    return render(request, "workspace/kb_article.html", {"article": article,
                                                         "version": version})
