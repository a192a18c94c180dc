"""The webhooks' channel lookups (the kit's per-process cache, `channels.webhook_channels`),
one per kind: the channel with its app secret and verify token. Setting:
`META_CHANNEL_CACHE_SECONDS` (5)."""

from __future__ import annotations

from dataclasses import dataclass

from atende.channels.models import Channel, ChannelKind
from atende.channels.webhook_channels import WebhookChannels


@dataclass(frozen=True)
class WebhookChannel:
    channel: Channel
    app_secret: str
    verify_token: str


def _read(channel: Channel) -> WebhookChannel:
    stored = channel.secrets if channel.encrypted_secrets else {}
    return WebhookChannel(channel, str(stored.get("app_secret") or ""),
                          str(stored.get("verify_token") or ""))


CHANNELS: dict[str, WebhookChannels[WebhookChannel]] = {
    kind: WebhookChannels(kind, _read, "META_CHANNEL_CACHE_SECONDS")
    for kind in (ChannelKind.INSTAGRAM.value, ChannelKind.MESSENGER.value)}
