"""Actions on API channels (create, change, issue keys) and the access check for keys."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from atende.channels.models import Channel, ChannelKind
from atende.tenancy.api_keys import generate_api_key, revoke_api_key
from atende.tenancy.models import ApiKey, Organization, Service

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def access_channel(key: ApiKey, channel_id: int, *, kind: str | None = None) -> Channel:
    """The channel `key` may use: its own channel for a channel-bound key, any channel of its
    organisation for an organisation key. Anything else raises Channel.DoesNotExist, exactly
    as for a missing channel, so nothing about another tenant's channel leaks."""
    if key.channel_id is not None and key.channel_id != channel_id:
        raise Channel.DoesNotExist
    channels = Channel.objects.for_org(key.organization_id).select_related("service")
    if kind is not None:
        channels = channels.filter(kind=kind)
    return channels.get(pk=channel_id)


@transaction.atomic
def create_api_channel(
    organization: Organization, *, name: str, service: Service | None = None,
    webhook_url: str = "", created_by_id: int | None = None,
) -> tuple[Channel, str, str]:
    """Create an API channel with its first key and signing secret.

    Returns (channel, raw key, signing secret): the only time either secret is readable.
    """
    channel = Channel(organization=organization, kind=ChannelKind.API, name=name,
                      service=service, settings={"webhook_url": webhook_url})
    secret = new_signing_secret()
    channel.secrets = {"signing_secret": secret}
    channel.save()
    _key, raw = generate_api_key(organization, _key_name(channel), channel_id=channel.pk,
                                 created_by_id=created_by_id)
    return channel, raw, secret


def update_channel(channel: Channel, changes: dict[str, Any]) -> Channel:
    """Apply validated changes: any of name, service, is_active, webhook_url (API only)."""
    fields: list[str] = []
    for attr in ("name", "service", "is_active"):
        if attr in changes:
            setattr(channel, attr, changes[attr])
            fields.append(attr)
    if "webhook_url" in changes:
        channel.settings = {**channel.settings, "webhook_url": changes["webhook_url"]}
        fields.append("settings")
    if fields:
        channel.save(update_fields=fields)
    return channel


@transaction.atomic
def issue_channel_key(channel: Channel, *, revoke_existing: bool = False,
                      created_by_id: int | None = None) -> tuple[ApiKey, str]:
    """A new key bound to `channel` (shown once). With `revoke_existing`, the channel's
    other keys stop working at once; otherwise both work until the old one is revoked."""
    if revoke_existing:
        for old in ApiKey.objects.for_org(channel.organization_id).filter(
                channel=channel, revoked_at__isnull=True):
            revoke_api_key(old)
    return generate_api_key(channel.organization, _key_name(channel), channel_id=channel.pk,
                            created_by_id=created_by_id)


def _key_name(channel: Channel) -> str:
    return f"channel {channel.pk}: {channel.name}"[:120]
