"""The e-mail channel's create/edit form on the channels screen (EM-1, EM-7)."""

from __future__ import annotations

from typing import Any

from django import forms

from atende.channels.models import Channel
from atende.connectors.email.mailbox_status import mailbox_status
from atende.connectors.email.settings_form import EmailChannelForm
from atende.tenancy.models import Organization, User
from atende.workspace.settings.channel_email_oauth import oauth_panel


class EmailChannelScreen:
    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form:
        form = EmailChannelForm(organization.pk, data=data, channel=channel)
        form.oauth_panel = oauth_panel(channel)  # type: ignore[attr-defined]
        # Read from what the poller and the IDLE watcher record: no mail server contacted.
        form.mailbox_status = mailbox_status(channel) if channel else None  # type: ignore[attr-defined]
        return form

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        assert isinstance(form, EmailChannelForm)
        return form.save(organization), {}

    def update(self, channel: Channel, form: forms.Form) -> None:
        assert isinstance(form, EmailChannelForm)
        form.save(channel.organization)
