"""The customer portal channel's create/edit form on the channels screen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from atende.channels.models import Channel
from atende.connectors.portal.channels import create_portal_channel, update_channel
from atende.connectors.portal.mail import portal_url
from atende.connectors.portal.settings_form import PortalChannelForm
from atende.tenancy.models import Organization, User


class PortalChannelScreen:
    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form:
        initial = {}
        if channel is not None:
            initial = {"name": channel.name, "service": channel.service_id}
        return PortalChannelForm(organization.pk, data=data, initial=initial)

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        cleaned = form.cleaned_data
        channel = create_portal_channel(organization, name=cleaned["name"],
                                        service=cleaned["service"])
        return channel, {_("Portal address"): portal_url(organization.slug)}

    def update(self, channel: Channel, form: forms.Form) -> None:
        update_channel(channel, form.cleaned_data)
