"""How a channel kind plugs its create/edit form into the channels screen.

A connector names its `ChannelScreen` by import path (`Connector.settings_screen`, in the
one registry), so the settings screens never import a connector until its form is needed.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.module_loading import import_string

from atende.channels.registry import UnknownChannelKind, get_connector, registered

if TYPE_CHECKING:
    from django import forms

    from atende.channels.models import Channel
    from atende.tenancy.models import Organization, User



def configurable_kinds() -> set[str]:
    """The channel kinds the settings screens create and edit."""
    return {c.kind for c in registered() if c.settings_screen}


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
    try:
        path = get_connector(kind).settings_screen
    except UnknownChannelKind:
        return None
    return import_string(path)() if path else None
