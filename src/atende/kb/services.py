"""Writes to the knowledge base: articles, votes and the suggestion counters.

Each function is one transaction. Counters move with F() updates, so concurrent requests
never lose an increment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from atende.kb.content import plain_text, sanitise
from atende.kb.models import (
    Article,
    ArticleStatus,
    ArticleTranslation,
    ArticleVote,
    Category,
    SuggestionVisit,
)
from atende.tenancy.audit import record_settings_change
from atende.tenancy.models import Membership


@dataclass(frozen=True)
class Version:
    language: str
    title: str
    body: str


def unique_slug(organization_id: int, title: str, exclude_id: int | None = None) -> str:
    base = slugify(title)[:100] or "artigo"
    slug, n = base, 1
    taken = Article.objects.for_org(organization_id).exclude(pk=exclude_id)
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def save_article(organization_id: int, *, versions: list[Version], status: str,
                 audience: str, category: Category | None, article: Article | None = None,
                 actor: Membership | None = None) -> Article:
    """Create or update an article and its language versions (an empty title removes that
    version). The HTML is sanitised here; the search index follows by itself."""
    now = timezone.now()
    before = None if article is None else {"status": article.status,
                                           "audience": article.audience}
    if article is None:
        first = next(v for v in versions if v.title.strip())
        article = Article(organization_id=organization_id,
                          created_by_id=actor.user_id if actor else None,
                          slug=unique_slug(organization_id, first.title))
    article.status, article.audience, article.category = status, audience, category
    article.updated_at = now
    if status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = now
    article.save()
    for version in versions:
        if not version.title.strip():
            ArticleTranslation.objects.filter(article=article,
                                              language=version.language).delete()
            continue
        body = sanitise(version.body)
        ArticleTranslation.objects.update_or_create(
            article=article, language=version.language,
            defaults={"organization_id": organization_id, "title": version.title.strip(),
                      "body": body, "body_text": plain_text(body)})
    record_settings_change(organization_id, actor, "created" if before is None else "updated",
                           "kb_article", article.pk, before=before,
                           after={"status": status, "audience": audience})
    return article


@transaction.atomic
def vote(article: Article, voter: str, helpful: bool) -> None:
    """Idempotent per visitor: voting again replaces their earlier vote."""
    ArticleVote.objects.update_or_create(
        article=article, voter=voter,
        defaults={"organization_id": article.organization_id, "helpful": helpful,
                  "created_at": timezone.now()})


def start_or_continue_visit(organization_id: int, token: str, query: str) -> SuggestionVisit:
    """The visit behind a run of suggestions; a missing or foreign token starts a new one."""
    visit = SuggestionVisit.objects.for_org(organization_id).filter(token=token).first() \
        if token else None
    if visit is None:
        visit = SuggestionVisit.objects.create(organization_id=organization_id,
                                               token=secrets.token_hex(16))
    visit.query = query[:200]
    return visit


@transaction.atomic
def record_shown(visit: SuggestionVisit, article_ids: list[int]) -> None:
    SuggestionVisit.objects.filter(pk=visit.pk).update(
        shown=F("shown") + len(article_ids), query=visit.query)
    Article.objects.filter(pk__in=article_ids,
                           organization_id=visit.organization_id).update(
        shown_count=F("shown_count") + 1)


@transaction.atomic
def record_opened(organization_id: int, token: str, article: Article) -> None:
    """A suggested article was opened (the link carries the visit's token)."""
    updated = SuggestionVisit.objects.for_org(organization_id).filter(token=token).update(
        opened_article=article)
    if updated:
        Article.objects.filter(pk=article.pk).update(opened_count=F("opened_count") + 1)


def record_ticket(organization_id: int, token: str) -> None:
    """The portal calls this when the visitor sends the ticket form anyway: the visit was
    not deflected. Unknown tokens are ignored."""
    SuggestionVisit.objects.for_org(organization_id).filter(
        token=token, ticket_at__isnull=True).update(ticket_at=timezone.now())
