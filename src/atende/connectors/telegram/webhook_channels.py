"""The webhook's channel lookup (the kit's per-process cache, `channels.webhook_channels`):
a Telegram channel with its webhook secret. Setting: `TELEGRAM_CHANNEL_CACHE_SECONDS` (5)."""

from __future__ import annotations

from dataclasses import dataclass

from atende.channels.models import Channel, ChannelKind
from atende.channels.webhook_channels import WebhookChannels


@dataclass(frozen=True)
class WebhookChannel:
    channel: Channel
    webhook_secret: str


def _read(channel: Channel) -> WebhookChannel:
    return WebhookChannel(channel, str(channel.secrets.get("webhook_secret") or ""))


CHANNELS = WebhookChannels(ChannelKind.TELEGRAM, _read, "TELEGRAM_CHANNEL_CACHE_SECONDS")
cached = CHANNELS.cached
webhook_channel = CHANNELS.lookup
