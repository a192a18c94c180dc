"""The channels screen: list, create and edit (through the kind's ChannelScreen),
activate/deactivate and "test connection" (the connector's own check)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.channels.models import Channel, ChannelKind, InboundStatus
from atende.channels.registry import UnknownChannelKind, get_connector
from atende.channels.services import set_channel_active
from atende.connectors.email.mailbox_status import mailbox_statuses
from atende.workspace.access import settings_required
from atende.workspace.settings import shown_once
from atende.workspace.settings.channel_forms import configurable_kinds, screen_for


def _channel(request: HttpRequest, pk: int) -> Channel:
    channel = (Channel.objects.for_org(request.membership.organization_id)  # type: ignore[attr-defined]
               .select_related("service").filter(pk=pk).first())
    if channel is None:
        raise Http404
    return channel


@settings_required
def channel_list(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - timedelta(days=7)
    channels = list(Channel.objects.for_org(request.membership.organization_id)  # type: ignore[attr-defined]
                    .select_related("service").order_by("kind", "name")
                    .annotate(quarantined=Count("inbound_events", filter=Q(
                        inbound_events__status=InboundStatus.QUARANTINED,
                        inbound_events__received_at__gte=since))))
    statuses = mailbox_statuses(channels)  # two queries for all the e-mail channels
    for channel in channels:
        channel.mailbox_status = statuses.get(channel.pk)  # type: ignore[attr-defined]
    editable = configurable_kinds()
    kinds = [(k, label) for k, label in ChannelKind.choices if k in editable]
    return render(request, "workspace/settings/channels.html", {
        "channels": channels, "kinds": kinds, "editable": editable,
    })


@settings_required
def channel_create(request: HttpRequest, kind: str) -> HttpResponse:
    screen = screen_for(kind)
    if screen is None:
        raise Http404
    org = request.membership.organization  # type: ignore[attr-defined]
    form = screen.form(org, request.POST or None, None)
    if request.method == "POST" and form.is_valid():
        channel, secrets = screen.create(org, form, request.user)  # type: ignore[arg-type]
        # Redirected, so a reload cannot create a second channel; the page shows the
        # secrets to the first GET only.
        shown_once.stash(request, f"channel-{channel.pk}", secrets)
        return redirect("workspace:settings:channel_created", pk=channel.pk)
    return render(request, "workspace/settings/channel_form.html",
                  {"form": form, "kind_label": ChannelKind(kind).label, "channel": None})


@settings_required
def channel_created(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    return render(request, "workspace/settings/channel_created.html", {
        "channel": channel, "secrets": shown_once.pop(request, f"channel-{channel.pk}")})


@settings_required
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    screen = screen_for(channel.kind)
    if screen is None:
        raise Http404
    form = screen.form(request.membership.organization, request.POST or None, channel)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        screen.update(channel, form)
        messages.success(request, _("Saved."))
        return redirect("workspace:settings:channels")
    return render(request, "workspace/settings/channel_form.html",
                  {"form": form, "kind_label": channel.get_kind_display(), "channel": channel})


@require_POST
@settings_required
def channel_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    set_channel_active(channel, not channel.is_active,
                       actor=request.membership)  # type: ignore[attr-defined]
    return redirect("workspace:settings:channels")


@require_POST
@settings_required
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    try:
        result = get_connector(channel.kind).test_connection(channel)
    except UnknownChannelKind:
        messages.error(request, _("This type of channel cannot be tested yet."))
        return redirect("workspace:settings:channels")
    if result.ok:
        messages.success(request, _("%(channel)s: connection works. %(detail)s")
                         % {"channel": channel.name, "detail": result.message})
    else:
        messages.error(request, _("%(channel)s: connection failed. %(detail)s")
                       % {"channel": channel.name, "detail": result.message})
    return redirect("workspace:settings:channels")
