"""The Consumidor.gov.br channel's create/edit form on the channels screen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from atende.channels.models import Channel
from atende.connectors.consumidor_gov.channels import save_channel
from atende.connectors.consumidor_gov.settings_form import ConsumidorChannelForm
from atende.tenancy.models import Organization, User


class ConsumidorChannelScreen:
    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form:
        if channel is None:
            return ConsumidorChannelForm(organization.pk, data=data)
        api = channel.settings.get("api") or {}
        secrets = channel.secrets if channel.encrypted_secrets else {}
        return ConsumidorChannelForm(
            organization.pk, data=data,
            has_secrets=bool(secrets.get("code") and secrets.get("password")),
            initial={"name": channel.name, "service": channel.service_id,
                     "client_id": channel.settings.get("client_id", ""),
                     "cpf": channel.settings.get("cpf", ""),
                     "base_url": api.get("base_url", ""),
                     "respond_path": api.get("respond_path", "")})

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        assert isinstance(form, ConsumidorChannelForm)
        channel = save_channel(organization, form)
        return channel, {_("Next step"): _("Use “Test connection” on the channels list; "
                                           "complaints are read in the API's hours.")}

    def update(self, channel: Channel, form: forms.Form) -> None:
        assert isinstance(form, ConsumidorChannelForm)
        save_channel(channel.organization, form, channel)
