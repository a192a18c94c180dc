"""Connecting an e-mail channel to Microsoft 365 / Gmail: "Connect" sends the admin to the
provider's consent, the callback (the one redirect URI to register) stores the tokens."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atende.channels.models import Channel, ChannelKind
from atende.connectors.email import consent
from atende.connectors.email.config import OAUTH2
from atende.workspace.access import settings_required
from atende.workspace.settings.channels import _channel


def redirect_uri() -> str:
    """Absolute and fixed (not taken from the request's Host): it must equal, byte for
    byte, the URI registered at the provider."""
    return settings.PUBLIC_URL + reverse("workspace:settings:channel_oauth_callback")


@dataclass(frozen=True)
class OAuthPanel:
    """What the e-mail channel screen shows about the OAuth2 connection."""

    channel: Channel | None
    sign_in: str
    account: str
    connected: bool
    redirect_uri: str
    microsoft_scopes: str
    google_scopes: str


def oauth_panel(channel: Channel | None) -> OAuthPanel:
    channel_settings = (channel.settings or {}) if channel else {}
    oauth = channel_settings.get("auth") == OAUTH2
    connected = bool(oauth and channel is not None and channel.encrypted_secrets
                     and channel.secrets.get("oauth_refresh_token"))
    return OAuthPanel(
        channel=channel,
        sign_in=str(channel_settings.get("oauth_provider") or "") if oauth else "",
        account=str(channel_settings.get("oauth_account") or ""),
        connected=connected,
        redirect_uri=redirect_uri(),
        microsoft_scopes=consent.scopes({**channel_settings, "oauth_provider": "microsoft"}),
        google_scopes=consent.scopes({**channel_settings, "oauth_provider": "google"}),
    )


@require_POST
@settings_required
def channel_oauth_connect(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    if channel.kind != ChannelKind.EMAIL:
        return redirect("workspace:settings:channel_edit", pk=channel.pk)
    try:
        url = consent.begin(request.session, channel, redirect_uri())
    except consent.ConsentError as exc:
        messages.error(request, str(exc))
        return redirect("workspace:settings:channel_edit", pk=channel.pk)
    return redirect(url)


@require_GET
@settings_required
def channel_oauth_callback(request: HttpRequest) -> HttpResponse:
    channel_id = consent.pending_channel_id(request.session, request.GET.get("state", ""))
    try:
        connected = consent.complete(request.session,
                                     request.membership.organization_id,  # type: ignore[attr-defined]
                                     request.GET)
    except consent.ConsentError as exc:
        messages.error(request, str(exc))
        if channel_id is not None and _owned(request, channel_id):
            return redirect("workspace:settings:channel_edit", pk=channel_id)
        return redirect("workspace:settings:channels")
    messages.success(request, _("%(channel)s: connected as %(account)s.") % {
        "channel": connected.channel.name, "account": connected.account or "?"})
    return redirect("workspace:settings:channel_edit", pk=connected.channel.pk)


def _owned(request: HttpRequest, channel_id: int) -> bool:
    return Channel.objects.for_org(request.membership.organization_id).filter(  # type: ignore[attr-defined]
        pk=channel_id).exists()
