"""A website's chat widget: a webchat channel seen from the visitor's side.

Its options live in `Channel.settings` (appearance, pre-chat form, allowed origins, the
public id the snippet names); the host's identity-signing secret in `Channel.secrets`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone

from atende.automation.business_hours import is_open
from atende.channels.models import Channel, ChannelKind

CORNERS = ("bottom-right", "bottom-left")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
DEFAULTS: dict[str, Any] = {
    "colour": "#1f6feb", "corner": "bottom-right", "title": "", "greeting": "",
    "icon": "chat", "prechat": "off", "origins": [],
}
ICONS = ("chat", "help", "headset")
PRECHAT = ("off", "optional", "required")


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; empty when it has none."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


@dataclass(frozen=True)
class Widget:
    channel: Channel

    @property
    def options(self) -> dict[str, Any]:
        return {**DEFAULTS, **(self.channel.settings or {})}

    @property
    def public_id(self) -> str:
        return str(self.channel.settings.get("public_id") or "")

    @property
    def origins(self) -> list[str]:
        return [o for o in self.options["origins"] if isinstance(o, str) and o]

    def allows(self, origin: str | None) -> bool:
        """An empty allow-list lets any site embed the widget; otherwise a browser's
        Origin must be on it. Without an Origin the request is not a cross-site page's
        (browsers always send it there): the token, not the origin, guards it."""
        if not origin or not self.origins:
            return True
        return origin_of(origin) in self.origins

    @property
    def identity_secret(self) -> str:
        return str(self.channel.secrets.get("identity_secret") or "")

    @property
    def online(self) -> bool:
        """Within the channel's business hours (no calendar: always). Outside them the
        widget shows the offline form: name, e-mail and a message that becomes a ticket."""
        calendar = self.channel.business_calendar
        return calendar is None or is_open(calendar, timezone.now())

    def public_config(self, language: str) -> dict[str, Any]:
        """What the widget script may know: appearance, the pre-chat form and whether the
        chat is attended now; never a secret or the allow-list."""
        o = self.options
        return {"colour": o["colour"], "corner": o["corner"], "title": o["title"],
                "greeting": o["greeting"], "icon": o["icon"], "prechat": o["prechat"],
                "identity": bool(self.identity_secret), "language": language,
                "online": self.online}


def widget_for(public_id: str) -> Widget | None:
    """The active widget the snippet names, or None."""
    if not PUBLIC_ID.fullmatch(public_id or ""):
        return None
    channel = (Channel.objects.select_related("organization", "service", "business_calendar")
               .filter(kind=ChannelKind.WEBCHAT, is_active=True,
                       settings__public_id=public_id).first())
    return Widget(channel) if channel is not None else None
