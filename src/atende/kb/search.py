"""Finding articles: the portal's search and suggestions, the agent's panel on a ticket.

Every read is scoped to one organisation; the portal reads only published public articles,
agents also the agents-only ones (drafts stay in the settings screens).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.safestring import SafeString

from atende.fulltext.indexes import FtsIndex
from atende.fulltext.query import Mode, matching
from atende.fulltext.text import Terms, highlight
from atende.kb.models import Article, ArticleStatus, ArticleTranslation, Audience, Language

ARTICLE_INDEX = FtsIndex("article", "kb_articletranslation", ("title", "body_text"))
# Enough rows to group the two language versions of the best articles.
CANDIDATES_PER_HIT = 3


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    title: str
    snippet: SafeString
    rank: float


def readable_articles(organization_id: int, *, agents: bool) -> QuerySet[Article]:
    qs = Article.objects.for_org(organization_id).filter(status=ArticleStatus.PUBLISHED)
    return qs if agents else qs.filter(audience=Audience.PUBLIC)


def search_articles(organization_id: int, text: str, *, agents: bool = False,
                    language: str = Language.PT_BR, mode: Mode = "all", limit: int = 10,
                    fallback: bool = True) -> list[ArticleHit]:
    """Articles ranked by relevance to `text`, each shown in `language` when it has that
    version. With `fallback`, a search needing every word that finds nothing is repeated
    needing any word."""
    terms = Terms.parse(text)
    if not terms:
        return []
    hits = _search(organization_id, terms, agents, language, mode, limit)
    if not hits and fallback and mode == "all" and len(terms.stems) > 1:
        hits = _search(organization_id, terms, agents, language, "any", limit)
    return hits


def _search(organization_id: int, terms: Terms, agents: bool, language: str, mode: Mode,
            limit: int) -> list[ArticleHit]:
    visible = Q(article__status=ArticleStatus.PUBLISHED)
    if not agents:
        visible &= Q(article__audience=Audience.PUBLIC)
    rows = matching(ArticleTranslation.objects.for_org(organization_id).filter(visible),
                    ARTICLE_INDEX, terms, organization_id, mode)
    best: dict[int, float] = {}
    for article_id, rank in rows.order_by("-rank", "article_id").values_list(
            "article_id", "rank")[: limit * CANDIDATES_PER_HIT]:
        best.setdefault(article_id, rank)
    order = sorted(best, key=lambda a: (-best[a], a))[:limit]
    articles = Article.objects.for_org(organization_id).in_bulk(order)
    versions: dict[int, ArticleTranslation] = {}
    for version in ArticleTranslation.objects.filter(article_id__in=order).order_by("id"):
        if version.article_id not in versions or version.language == language:
            versions[version.article_id] = version
    return [ArticleHit(article=articles[a], title=versions[a].title,
                       snippet=highlight(versions[a].body_text, terms.stems, width=160),
                       rank=best[a])
            for a in order if a in articles and a in versions]


def related_to_ticket(organization_id: int, subject: str, texts: list[str],
                      language: str = Language.PT_BR, limit: int = 5) -> list[ArticleHit]:
    """The articles an agent may want on a ticket: ranked by the words they share with its
    subject and the customer's messages, offline (no external service)."""
    text = " ".join([subject, *texts])  # the subject's words first: they fill the terms
    return search_articles(organization_id, text, agents=True, language=language,
                           mode="any", limit=limit, fallback=False)
