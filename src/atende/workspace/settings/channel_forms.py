"""How a channel kind plugs its create/edit form into the channels screen.

Each kind registers a `ChannelScreen` by import path (lazily, like the connector registry),
so the settings screens never import a connector until its form is needed. A connector
helper adds one line to CHANNEL_SCREENS and writes its screen next to its own
`settings_form.py`.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django import forms

    from atende.channels.models import Channel
    from atende.tenancy.models import Organization, User

CHANNEL_SCREENS: dict[str, str] = {
    "api": "atende.workspace.settings.channel_api.ApiChannelScreen",
    "whatsapp": "atende.workspace.settings.channel_whatsapp.WhatsAppChannelScreen",
    "email": "atende.workspace.settings.channel_email.EmailChannelScreen",
}


class ChannelScreen(Protocol):
    def form(self, organization: Organization, data: Any,
             channel: Channel | None) -> forms.Form: ...

    def create(self, organization: Organization, form: forms.Form,
               user: User) -> tuple[Channel, dict[str, str]]:
        """Create the channel from a valid form; returns it and what to show once
        (label → value: keys, secrets, the webhook URL to give the provider)."""
        ...

    def update(self, channel: Channel, form: forms.Form) -> None: ...


@cache
def screen_for(kind: str) -> ChannelScreen | None:
    path = CHANNEL_SCREENS.get(kind)
    return import_string(path)() if path else None
