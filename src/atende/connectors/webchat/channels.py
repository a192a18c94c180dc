"""Creating and changing a website chat channel: a new public id for the snippet, the
identity secret made when the check is switched on (and kept while it stays on)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction

from atende.channels.models import Channel, ChannelKind
from atende.connectors.webchat.widget import new_public_id
from atende.tenancy.models import Organization, Service

OPTION_FIELDS = ("title", "greeting", "colour", "corner", "icon", "prechat", "origins")


def snippet(channel: Channel) -> str:
    return (f'<script src="{settings.PUBLIC_URL}/widget/v1.js" '
            f'data-atende-widget="{channel.settings.get("public_id", "")}" async></script>')


@transaction.atomic
def save_channel(organization: Organization, data: dict[str, Any],
                 channel: Channel | None = None) -> Channel:
    if channel is None:
        channel = Channel(organization=organization, kind=ChannelKind.WEBCHAT,
                          settings={"public_id": new_public_id()})
    if channel.organization_id != organization.pk or channel.kind != ChannelKind.WEBCHAT:
        raise ValueError("not a chat channel of this organisation")
    channel.name = data["name"]
    service: Service | None = data.get("service")
    channel.service = service
    channel.business_calendar = data.get("business_calendar")
    channel.settings = {**channel.settings,
                        **{k: data[k] for k in OPTION_FIELDS if k in data}}
    stored = channel.secrets if channel.encrypted_secrets else {}
    if data.get("identity_check"):
        stored["identity_secret"] = stored.get("identity_secret") or secrets.token_urlsafe(32)
    else:
        stored.pop("identity_secret", None)
    channel.secrets = stored
    channel.save()
    return channel


def demo_widget(organization: Organization, service: Service) -> Channel:
    """The demo organisation's website chat (created once)."""
    found = Channel.objects.for_org(organization).filter(kind=ChannelKind.WEBCHAT).first()
    return found or save_channel(organization, {
        "name": "Chat do site", "service": service, "title": "Atende Demo",
        "greeting": "Olá! Como podemos ajudar?", "colour": "#1f6feb",
        "corner": "bottom-right", "icon": "chat", "prechat": "optional", "origins": []})
