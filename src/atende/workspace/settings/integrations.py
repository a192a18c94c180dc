"""API keys (API-4) and outbound webhook subscriptions with their delivery log.

A secret is shown once, on the page the creating POST redirects to, and never again
(see shown_once.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.net.form_fields import DestinationURLField, check_destination
from atende.tenancy.api_keys import generate_api_key, revoke_api_key
from atende.tenancy.models import ApiKey, Permission
from atende.webhooks.models import EventType, WebhookSubscription
from atende.webhooks.services import create_subscription
from atende.workspace.access import permission_required, settings_required
from atende.workspace.settings import shown_once

DELIVERY_LOG_SIZE = 50


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120,
                           help_text=_("Who uses this key, e.g. \"ERP integration\"."))


class WebhookForm(forms.Form):
    url = DestinationURLField(label=_("URL"))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(label=_("Events"), choices=EventType.choices,
                                       widget=forms.CheckboxSelectMultiple)

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        check_destination(url)  # and again on the address each delivery dials
        return url


def _org_id(request: HttpRequest) -> int:
    return int(request.membership.organization_id)  # type: ignore[attr-defined]


@permission_required(Permission.API_KEYS)
def api_keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _key, raw = generate_api_key(request.membership.organization,  # type: ignore[attr-defined]
                                     form.cleaned_data["name"], created_by_id=request.user.pk)
        shown_once.stash(request, "api-key", {"key": raw})
        return redirect("workspace:settings:api_keys")
    shown = shown_once.pop(request, "api-key") or {}
    context: dict[str, Any] = {"new_secret": shown.get("key")}
    keys = (ApiKey.objects.for_org(_org_id(request)).select_related("channel")
            .order_by("revoked_at", "-created_at"))
    return render(request, "workspace/settings/api_keys.html",
                  {**context, "form": form, "keys": keys})


@require_POST
@permission_required(Permission.API_KEYS)
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = ApiKey.objects.for_org(_org_id(request)).filter(pk=pk).first()
    if key is None:
        raise Http404
    revoke_api_key(key)
    messages.success(request, _("The key was revoked; requests using it are refused now."))
    return redirect("workspace:settings:api_keys")


@settings_required
def webhooks(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _sub, secret = create_subscription(_org_id(request), data["url"], data["events"],
                                           data["description"])
        shown_once.stash(request, "webhook", {"secret": secret})
        return redirect("workspace:settings:webhooks")
    shown = shown_once.pop(request, "webhook") or {}
    context: dict[str, Any] = {"new_secret": shown.get("secret")}
    subs = WebhookSubscription.objects.for_org(_org_id(request)).order_by("-created_at")
    return render(request, "workspace/settings/webhooks.html",
                  {**context, "form": form, "subscriptions": subs})


def _subscription(request: HttpRequest, pk: int) -> WebhookSubscription:
    sub = WebhookSubscription.objects.for_org(_org_id(request)).filter(pk=pk).first()
    if sub is None:
        raise Http404
    return sub


@require_POST
@settings_required
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _subscription(request, pk)
    sub.is_active = not sub.is_active
    sub.save(update_fields=["is_active"])
    return redirect("workspace:settings:webhooks")


@settings_required
def webhook_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _subscription(request, pk)
    deliveries = sub.deliveries.order_by("-created_at")[:DELIVERY_LOG_SIZE]
    return render(request, "workspace/settings/webhook_deliveries.html",
                  {"subscription": sub, "deliveries": deliveries})
