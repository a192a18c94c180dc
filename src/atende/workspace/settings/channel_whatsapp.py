"""The WhatsApp channel's create/edit form on the channels screen (WA-1, WA-7)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from atende.channels.connection import Connection
from atende.channels.models import Channel
from atende.connectors.whatsapp.channels import form_initial, save_channel
from atende.connectors.whatsapp.settings_form import WhatsAppChannelForm
from atende.tenancy.models import Organization, User


def _shown(connection: Connection) -> dict[str, str]:
    return {_("Webhook URL"): connection.webhook_url, _("Provider's answer"): connection.message}


class WhatsAppChannelScreen:
    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form:
        if channel is None:
            return WhatsAppChannelForm(organization.pk, data=data)
        return WhatsAppChannelForm(organization.pk, data=data, initial=form_initial(channel),
                                   has_key=bool(channel.secrets.get("api_key")))

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        assert isinstance(form, WhatsAppChannelForm)
        connection = save_channel(organization, form)
        return connection.channel, _shown(connection)

    def update(self, channel: Channel, form: forms.Form) -> None:
        assert isinstance(form, WhatsAppChannelForm)
        save_channel(channel.organization, form, channel)
