"""Knowledge-base articles, their two language versions, votes and suggestion visits."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import TenantModel


class Language(models.TextChoices):
    PT_BR = "pt-br", _("Portuguese (Brazil)")
    EN = "en", _("English")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Audience(models.TextChoices):
    PUBLIC = "public", _("Public")
    AGENTS = "agents", _("Agents only")


class Category(TenantModel):
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_kb_category")
        ]

    def __str__(self) -> str:
        return self.name

    def label(self, language: str) -> str:
        return self.name_en if language == Language.EN and self.name_en else self.name


class Article(TenantModel):
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="articles", verbose_name=_("category"))
    slug = models.SlugField(_("address"), max_length=120)
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices,
                              default=ArticleStatus.DRAFT)
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices,
                                default=Audience.PUBLIC)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    # Deflection (PO-3): how often the portal suggested it and a customer opened it.
    shown_count = models.PositiveIntegerField(default=0)
    opened_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="uniq_kb_article_slug")
        ]
        indexes = [models.Index(fields=["organization", "status", "audience"],
                                name="kb_article_org_status")]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_public(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED and self.audience == Audience.PUBLIC


class ArticleTranslation(TenantModel):
    """One language version; `body` is sanitised HTML, `body_text` its text (indexed)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=5, choices=Language.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    body_text = models.TextField(blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "language"], name="uniq_kb_translation")
        ]

    def __str__(self) -> str:
        return self.title


class ArticleVote(TenantModel):
    """"Was this helpful?": one vote per visitor and article; a second one changes it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=64)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "voter"], name="uniq_kb_vote")
        ]


class SuggestionVisit(TenantModel):
    """A portal visitor's run of suggestions while writing a ticket: deflected when they
    opened an article and sent no ticket (`ticket_at` stays empty)."""

    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    query = models.CharField(max_length=200, blank=True)
    shown = models.PositiveIntegerField(default=0)
    opened_article = models.ForeignKey(Article, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    ticket_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="kb_visit_org_time",
                                condition=Q(opened_article__isnull=False))]
