"""The website chat's create/edit form on the channels screen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from atende.channels.models import Channel
from atende.connectors.webchat.channels import OPTION_FIELDS, save_channel, snippet
from atende.connectors.webchat.settings_form import WebchatChannelForm
from atende.connectors.webchat.widget import DEFAULTS
from atende.tenancy.models import Organization, User


def _shown(channel: Channel) -> dict[str, str]:
    shown = {_("Snippet for your site"): snippet(channel)}
    secret = channel.secrets.get("identity_secret") if channel.encrypted_secrets else None
    if secret:
        shown[_("Identity secret (sign user ids with HMAC-SHA256)")] = str(secret)
    return shown


class WebchatChannelScreen:
    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form:
        initial: dict[str, Any] = {k: DEFAULTS[k] for k in OPTION_FIELDS}
        if channel is not None:
            options = {**DEFAULTS, **channel.settings}
            initial = {k: options[k] for k in OPTION_FIELDS}
            initial["origins"] = "\n".join(options["origins"])
            initial.update(name=channel.name, service=channel.service_id,
                           business_calendar=channel.business_calendar_id,
                           identity_check=bool(channel.secrets.get("identity_secret")))
        return WebchatChannelForm(organization.pk, data=data, initial=initial)

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        channel = save_channel(organization, form.cleaned_data)
        return channel, _shown(channel)

    def update(self, channel: Channel, form: forms.Form) -> None:
        save_channel(channel.organization, form.cleaned_data, channel)
