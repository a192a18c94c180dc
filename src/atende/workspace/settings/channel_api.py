"""The generic API channel's create/edit form on the channels screen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from atende.channels.models import Channel
from atende.connectors.api.channels import create_api_channel, update_channel
from atende.connectors.api.settings_form import ApiChannelForm
from atende.tenancy.models import Organization, User


class ApiChannelScreen:
    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form:
        initial = {}
        if channel is not None:
            initial = {"name": channel.name, "service": channel.service_id,
                       "webhook_url": channel.settings.get("webhook_url", "")}
        return ApiChannelForm(organization.pk, data=data, initial=initial)

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        cleaned = form.cleaned_data
        channel, raw_key, secret = create_api_channel(
            organization, name=cleaned["name"], service=cleaned["service"],
            webhook_url=cleaned["webhook_url"], created_by_id=user.pk,
        )
        return channel, {_("API key"): raw_key, _("Webhook signing secret"): secret}

    def update(self, channel: Channel, form: forms.Form) -> None:
        update_channel(channel, form.cleaned_data)
