"""The public knowledge base at /p/<organisation>/kb/: reading, search, suggestions for the
portal's ticket form, and "Was this helpful?". No sign-in; only published public articles."""

from __future__ import annotations

import hashlib
import secrets

from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atende.kb import limits, services
from atende.kb.models import Article, ArticleTranslation, Category, Language
from atende.kb.search import readable_articles, search_articles
from atende.tenancy.models import Organization

VOTER_COOKIE = "kb_voter"
SUGGESTIONS = 5


def language() -> str:
    return Language.EN if (get_language() or "").startswith("en") else Language.PT_BR


def _organization(slug: str) -> Organization:
    return get_object_or_404(Organization, slug=slug)


def _version(article: Article, lang: str) -> ArticleTranslation:
    versions = {v.language: v for v in article.translations.all()}
    version = versions.get(lang) or versions.get(Language.PT_BR) or next(
        iter(versions.values()), None)
    if version is None:
        raise Http404
    return version


@require_GET
def home(request: HttpRequest, org: str) -> HttpResponse:
    organization = _organization(org)
    lang = language()
    query = request.GET.get("q", "").strip()[:200]
    hits, limited = [], False
    if query:
        if limits.allowed(request, "search"):
            hits = search_articles(organization.pk, query, language=lang, limit=20)
        else:
            limited = True
    articles = readable_articles(organization.pk, agents=False).select_related(
        "category").prefetch_related("translations").order_by("category__position", "pk")
    sections: dict[Category | None, list[tuple[Article, ArticleTranslation]]] = {}
    if not query:
        for article in articles:
            sections.setdefault(article.category, []).append((article, _version(article, lang)))
    return render(request, "kb/public/home.html", {
        "organization": organization, "query": query, "hits": hits, "limited": limited,
        "sections": [(c.label(lang) if c else _("Other articles"), rows)
                     for c, rows in sections.items()],
    }, status=429 if limited else 200)


@require_GET
def article_page(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization = _organization(org)
    article = get_object_or_404(readable_articles(organization.pk, agents=False), slug=slug)
    visit = request.GET.get("visit", "")[:32]
    if visit:
        services.record_opened(organization.pk, visit, article)
    votes = article.votes.aggregate(yes=Count("pk", filter=Q(helpful=True)),
                                    no=Count("pk", filter=Q(helpful=False)))
    return render(request, "kb/public/article.html", {
        "organization": organization, "article": article,
        "version": _version(article, language()), "votes": votes,
        "voted": request.GET.get("voted") == "1",
    })


@require_POST
def vote(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    organization = _organization(org)
    article = get_object_or_404(readable_articles(organization.pk, agents=False), slug=slug)
    if not limits.allowed(request, "vote"):
        return HttpResponse(_("Too many votes from your address; try again in a minute."),
                            status=429, content_type="text/plain; charset=utf-8")
    choice = request.POST.get("helpful")
    if choice not in ("yes", "no"):
        return HttpResponse(_("Choose yes or no."), status=400,
                            content_type="text/plain; charset=utf-8")
    token = request.COOKIES.get(VOTER_COOKIE) or secrets.token_hex(16)
    voter = hashlib.sha256(token.encode()).hexdigest()
    services.vote(article, voter, helpful=choice == "yes")
    response = redirect(reverse("kb-public:article", args=[org, slug]) + "?voted=1")
    response.set_cookie(VOTER_COOKIE, token, max_age=365 * 24 * 3600, httponly=True,
                        samesite="Lax", secure=request.is_secure())
    return response


@require_GET
def suggest(request: HttpRequest, org: str) -> JsonResponse:
    """Articles for what the customer is typing as the subject of a ticket. The answer's
    `visit` token goes back with the next call, on the articles' links (opened) and with
    the ticket form (kb.services.record_ticket: not deflected)."""
    organization = _organization(org)
    if not limits.allowed(request, "suggest"):
        return JsonResponse({"error": _("Too many requests; try again in a minute.")},
                            status=429)
    query = request.GET.get("q", "").strip()[:200]
    token = request.GET.get("visit", "")[:32]
    hits = search_articles(organization.pk, query, language=language(), mode="any",
                           limit=SUGGESTIONS, fallback=False) if len(query) >= 3 else []
    if not hits:
        return JsonResponse({"visit": token, "articles": []})
    visit = services.start_or_continue_visit(organization.pk, token, query)
    services.record_shown(visit, [h.article.pk for h in hits])
    base = reverse("kb-public:home", args=[org])
    return JsonResponse({"visit": visit.token, "articles": [
        {"title": h.title, "url": f"{base}{h.article.slug}/?visit={visit.token}",
         "snippet": str(h.snippet)} for h in hits]})
