"""Instagram and Messenger channels on the channels screen: the create/edit form, the
panel with the webhook's URL and verify token and the "Connect with Facebook" button, and
the consent's callback (the one redirect URI to register in the Meta app)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atende.channels.models import Channel, ChannelKind
from atende.connectors.meta_messaging import consent
from atende.connectors.meta_messaging.channels import save_channel, url_and_token
from atende.connectors.meta_messaging.settings_form import MetaChannelForm
from atende.tenancy.models import Organization, User
from atende.workspace.access import settings_required
from atende.workspace.settings.channels import _channel


def redirect_uri() -> str:
    """Absolute and fixed: it must equal the URI registered in the Meta app."""
    return settings.PUBLIC_URL + reverse("workspace:settings:channel_meta_callback")


@dataclass(frozen=True)
class MetaPanel:
    channel: Channel
    webhook_url: str
    verify_token: str
    redirect_uri: str
    connected: bool
    page: str
    account: str


def meta_panel(channel: Channel) -> MetaPanel:
    url, token = url_and_token(channel)
    options = channel.settings
    return MetaPanel(channel, url, token, redirect_uri(),
                     connected=bool(channel.secrets.get("page_token")),
                     page=str(options.get("page_name") or ""),
                     account=str(options.get("username") or ""))


class MetaChannelScreen:
    kind = ""

    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form:
        if channel is None:
            return MetaChannelForm(organization.pk, data=data)
        options = channel.settings
        form = MetaChannelForm(
            organization.pk, data=data, has_secret=bool(channel.secrets.get("app_secret")),
            initial={"name": channel.name, "service": channel.service_id,
                     "app_id": options.get("app_id", ""), "page_id": options.get("page_id", ""),
                     "human_agent": bool(options.get("human_agent"))})
        form.meta_panel = meta_panel(channel)
        return form

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        assert isinstance(form, MetaChannelForm)
        channel = save_channel(organization, self.kind, form)
        url, token = url_and_token(channel)
        return channel, {_("Callback URL"): url, _("Verify token"): token,
                         _("Next step"): _("Open the channel and click “Connect with "
                                           "Facebook”.")}

    def update(self, channel: Channel, form: forms.Form) -> None:
        assert isinstance(form, MetaChannelForm)
        save_channel(channel.organization, self.kind, form, channel)


class InstagramChannelScreen(MetaChannelScreen):
    kind = ChannelKind.INSTAGRAM


class MessengerChannelScreen(MetaChannelScreen):
    kind = ChannelKind.MESSENGER


@require_POST
@settings_required
def channel_meta_connect(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    try:
        url = consent.begin(request.session, channel, redirect_uri())
    except consent.ConsentError as exc:
        messages.error(request, str(exc))
        return redirect("workspace:settings:channel_edit", pk=channel.pk)
    return redirect(url)


@require_GET
@settings_required
def channel_meta_callback(request: HttpRequest) -> HttpResponse:
    organization_id = request.membership.organization_id  # type: ignore[attr-defined]
    channel_id = consent.pending_channel_id(request.session, request.GET.get("state", ""))
    try:
        connected = consent.complete(request.session, organization_id, request.GET)
    except consent.ConsentError as exc:
        messages.error(request, str(exc))
        if channel_id is not None and Channel.objects.for_org(organization_id).filter(
                pk=channel_id).exists():
            return redirect("workspace:settings:channel_edit", pk=channel_id)
        return redirect("workspace:settings:channels")
    messages.success(request, _("%(channel)s: connected to the page %(page)s (%(account)s).")
                     % {"channel": connected.channel.name, "page": connected.page or "?",
                        "account": connected.account or "?"})
    return redirect("workspace:settings:channel_edit", pk=connected.channel.pk)
