"""Saving a Consumidor.gov.br channel from its settings form."""

from __future__ import annotations

from django.db import transaction

from atende.channels.models import Channel, ChannelKind
from atende.connectors.consumidor_gov.settings_form import ConsumidorChannelForm
from atende.tenancy.models import Organization


def save_channel(organization: Organization, form: ConsumidorChannelForm,
                 channel: Channel | None = None) -> Channel:
    """Create or update the channel from a valid form: the code and the password are
    encrypted (blank keeps the stored ones); the contract settings not on the form stay."""
    data = form.cleaned_data
    with transaction.atomic():
        if channel is None:
            channel = Channel(organization=organization, kind=ChannelKind.CONSUMIDOR_GOV)
        if channel.organization_id != organization.pk \
                or channel.kind != ChannelKind.CONSUMIDOR_GOV:
            raise ValueError("not a Consumidor.gov.br channel of this organisation")
        stored = channel.secrets if channel.encrypted_secrets else {}
        channel.name = data["name"]
        channel.service = data.get("service")
        options = dict(channel.settings)
        api = dict(options.get("api") or {})
        for name in ("base_url", "respond_path"):
            if data.get(name):
                api[name] = data[name]
            else:
                api.pop(name, None)
        options.update(client_id=data["client_id"].strip(), cpf=data["cpf"], api=api)
        channel.settings = options
        channel.secrets = {**stored, "code": data.get("code") or stored.get("code", ""),
                           "password": data.get("password") or stored.get("password", "")}
        channel.save()
    return channel
