"""One list / create / edit / (de)activate screen per simple settings section.

A `Section` names the model, its form and the columns to show; `section_urls` turns it into
four views. Every lookup goes through the agent's organisation, so another tenant's id is a
404, and every change is a POST behind CSRF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.workspace.access import settings_required
from atende.workspace.settings.forms import TenantModelForm


@dataclass(frozen=True)
class Column:
    attr: str
    label: Promise
    # Formats the value for display (e.g. a list of permissions); the attribute by default.
    render: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Section:
    slug: str
    model: type[models.Model]
    form: type[TenantModelForm]
    title: Promise
    add_label: Promise
    empty: Promise
    columns: tuple[Column, ...]
    ordering: tuple[str, ...] = ("name",)
    # Sections whose model has `is_active` get an activate/deactivate button.
    toggle: bool = True
    prefetch: tuple[str, ...] = field(default=())

    def queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        org_id = request.membership.organization_id  # type: ignore[attr-defined]
        qs = self.model._default_manager.filter(organization_id=org_id)
        if self.prefetch:
            qs = qs.prefetch_related(*self.prefetch)
        return qs.order_by(*self.ordering)

    def get(self, request: HttpRequest, pk: int) -> Any:
        try:
            return self.queryset(request).get(pk=pk)
        except self.model.DoesNotExist:  # type: ignore[attr-defined]
            raise Http404 from None


def _rows(section: Section, objects: Any) -> list[dict[str, Any]]:
    rows = []
    for obj in objects:
        cells = []
        for col in section.columns:
            value = getattr(obj, col.attr)
            cells.append(col.render(value) if col.render else value)
        rows.append({"obj": obj, "cells": cells})
    return rows


def section_urls(section: Section) -> list[URLPattern]:
    name = section.slug.replace("-", "_")

    @settings_required
    def list_view(request: HttpRequest) -> HttpResponse:
        return render(request, "workspace/settings/list.html", {
            "section": section, "rows": _rows(section, section.queryset(request)),
            "headers": [c.label for c in section.columns],
            "create_url": f"workspace:settings:{name}_create",
            "edit_url": f"workspace:settings:{name}_edit",
            "toggle_url": f"workspace:settings:{name}_toggle",
        })

    def _form_view(request: HttpRequest, instance: Any) -> HttpResponse:
        org = request.membership.organization  # type: ignore[attr-defined]
        form = section.form(org, request.POST or None, instance=instance)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, _("Saved."))
            return redirect(f"workspace:settings:{name}")
        return render(request, "workspace/settings/form.html", {
            "section": section, "form": form, "object": instance,
            "back_url": f"workspace:settings:{name}",
        })

    @settings_required
    def create_view(request: HttpRequest) -> HttpResponse:
        return _form_view(request, None)

    @settings_required
    def edit_view(request: HttpRequest, pk: int) -> HttpResponse:
        return _form_view(request, section.get(request, pk))

    @require_POST
    @settings_required
    def toggle_view(request: HttpRequest, pk: int) -> HttpResponse:
        obj = section.get(request, pk)
        obj.is_active = not obj.is_active
        obj.save(update_fields=["is_active"])
        return redirect(f"workspace:settings:{name}")

    patterns = [
        path(f"{section.slug}/", list_view, name=name),
        path(f"{section.slug}/new/", create_view, name=f"{name}_create"),
        path(f"{section.slug}/<int:pk>/", edit_view, name=f"{name}_edit"),
    ]
    if section.toggle:
        patterns.append(path(f"{section.slug}/<int:pk>/toggle/", toggle_view,
                             name=f"{name}_toggle"))
    return patterns
