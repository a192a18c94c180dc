"""The knowledge base's settings screens: the articles (both language versions, status,
audience) with their suggestion and vote figures. Categories are a simple section
(settings.sections). Lookups go through the agent's organisation; writes are POSTs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from atende.kb.models import Article, ArticleStatus, Audience, Category, Language
from atende.kb.services import Version, save_article
from atende.kb.stats import deflection
from atende.workspace.access import settings_required
from atende.workspace.settings.forms import TenantModelForm

BODY_HELP = _("Formatting kept: paragraphs, bold, italics, lists, headings, links, images "
              "and tables (HTML). Anything else, such as scripts, is removed when saved.")


class CategoryForm(TenantModelForm):
    class Meta:
        model = Category
        fields = ["name", "name_en", "position"]


class ArticleForm(forms.Form):
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False,
                                      label=_("Category"))
    status = forms.ChoiceField(choices=ArticleStatus.choices, label=_("Status"))
    audience = forms.ChoiceField(choices=Audience.choices, label=_("Audience"))
    title_pt = forms.CharField(max_length=200, label=_("Title (Portuguese)"))
    body_pt = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), required=False,
                              label=_("Text (Portuguese)"), help_text=BODY_HELP)
    title_en = forms.CharField(max_length=200, required=False, label=_("Title (English)"))
    body_en = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), required=False,
                              label=_("Text (English)"))

    def __init__(self, organization_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.for_org(  # type: ignore[attr-defined]
            organization_id).order_by("position", "name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("body_en") and not data.get("title_en"):
            self.add_error("title_en", _("An English text needs an English title."))
        return data


def _article(request: HttpRequest, pk: int) -> Article:
    article = Article.objects.for_org(request.membership.organization_id).filter(  # type: ignore[attr-defined]
        pk=pk).first()
    if article is None:
        raise Http404
    return article


def _initial(article: Article) -> dict[str, Any]:
    initial: dict[str, Any] = {"category": article.category_id, "status": article.status,
                               "audience": article.audience}
    for version in article.translations.all():
        suffix = "pt" if version.language == Language.PT_BR else "en"
        initial[f"title_{suffix}"], initial[f"body_{suffix}"] = version.title, version.body
    return initial


@settings_required
def article_list(request: HttpRequest) -> HttpResponse:
    org_id = request.membership.organization_id  # type: ignore[attr-defined]
    articles = (Article.objects.for_org(org_id).select_related("category")
                .prefetch_related("translations")
                .annotate(helpful=Count("votes", filter=Q(votes__helpful=True)),
                          not_helpful=Count("votes", filter=Q(votes__helpful=False)))
                .order_by("category__position", "category__name", "pk"))
    rows = [(a, next((v.title for v in a.translations.all()
                      if v.language == Language.PT_BR), a.slug)) for a in articles]
    return render(request, "workspace/settings/kb_articles.html",
                  {"rows": rows, "deflection": deflection(org_id)})


def _form_view(request: HttpRequest, article: Article | None) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = ArticleForm(membership.organization_id, request.POST or None,
                       initial=_initial(article) if article else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        save_article(membership.organization_id, article=article, actor=membership,
                     status=data["status"], audience=data["audience"],
                     category=data["category"], versions=[
                         Version(Language.PT_BR, data["title_pt"], data["body_pt"]),
                         Version(Language.EN, data["title_en"], data["body_en"])])
        messages.success(request, _("Saved."))
        return redirect("workspace:settings:kb_articles")
    return render(request, "workspace/settings/kb_article_form.html",
                  {"form": form, "article": article})


@settings_required
def article_create(request: HttpRequest) -> HttpResponse:
    return _form_view(request, None)


@settings_required
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    return _form_view(request, _article(request, article_id))
