"""The webhook's channel lookup (the kit's per-process cache, `channels.webhook_channels`):
a WhatsApp channel with its provider and the secrets its webhook checks. Setting:
`WHATSAPP_CHANNEL_CACHE_SECONDS` (5)."""

from __future__ import annotations

from dataclasses import dataclass

from atende.channels.models import Channel, ChannelKind
from atende.channels.webhook_channels import WebhookChannels


@dataclass(frozen=True)
class WebhookChannel:
    channel: Channel
    provider: str
    webhook_secret: str
    app_secret: str


def _read(channel: Channel) -> WebhookChannel:
    secrets = channel.secrets
    return WebhookChannel(channel=channel, provider=str(channel.settings.get("provider") or ""),
                          webhook_secret=str(secrets.get("webhook_secret") or ""),
                          app_secret=str(secrets.get("app_secret") or ""))


CHANNELS = WebhookChannels(ChannelKind.WHATSAPP, _read, "WHATSAPP_CHANNEL_CACHE_SECONDS")
cached = CHANNELS.cached
webhook_channel = CHANNELS.lookup
