"""The Telegram channel's create/edit form on the channels screen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from atende.channels.connection import Connection
from atende.channels.models import Channel
from atende.connectors.telegram.channels import save_channel
from atende.connectors.telegram.settings_form import TelegramChannelForm
from atende.tenancy.models import Organization, User


def _shown(connection: Connection) -> dict[str, str]:
    return {_("Bot"): f"@{connection.channel.settings.get('bot_username') or ''}",
            _("Webhook URL"): connection.webhook_url,
            _("Telegram's answer"): connection.message}


class TelegramChannelScreen:
    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form:
        if channel is None:
            return TelegramChannelForm(organization.pk, data=data)
        return TelegramChannelForm(
            organization.pk, data=data, has_token=bool(channel.secrets.get("bot_token")),
            initial={"name": channel.name, "service": channel.service_id})

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        assert isinstance(form, TelegramChannelForm)
        connection = save_channel(organization, form)
        return connection.channel, _shown(connection)

    def update(self, channel: Channel, form: forms.Form) -> None:
        assert isinstance(form, TelegramChannelForm)
        save_channel(channel.organization, form, channel)
