"""The "Satisfaction survey" screen of any channel (CORE-14)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from atende.channels.connector import Connector
from atende.channels.models import Channel
from atende.channels.registry import UnknownChannelKind, get_connector
from atende.csat.config import PLACEHOLDERS
from atende.csat.settings_form import CsatSettingsForm
from atende.workspace.access import settings_required


def _invites(channel: Channel) -> bool:
    """Whether the channel's connector sends invitations itself (else only the link)."""
    try:
        connector = get_connector(channel.kind)
    except UnknownChannelKind:
        return False
    return type(connector).invite_csat is not Connector.invite_csat


@settings_required
def csat_settings(request: HttpRequest, pk: int) -> HttpResponse:
    org_id = request.membership.organization_id  # type: ignore[attr-defined]
    channel = Channel.objects.for_org(org_id).filter(pk=pk).first()
    if channel is None:
        raise Http404
    form = CsatSettingsForm(channel, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("workspace:settings:channel_csat", pk=channel.pk)
    return render(request, "csat/settings.html", {
        "channel": channel, "form": form, "placeholders": PLACEHOLDERS,
        "invites": _invites(channel)})
