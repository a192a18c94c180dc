"""The two channels on Meta's Messenger Platform: Instagram Direct and Facebook Messenger.
One code path, told apart by this record (CONTRACTS §3, §10)."""

from __future__ import annotations

from dataclasses import dataclass

from atende.channels.models import Channel, ChannelKind
from atende.contacts.models import IdentityKind


@dataclass(frozen=True)
class Platform:
    kind: str  # the channel kind
    webhook_object: str  # the webhook body's `object`
    identity: str  # the contact identity kind of a sender id
    prefix: str  # of the thread keys
    label: str
    profile_fields: str  # the User Profile API's fields


INSTAGRAM = Platform(ChannelKind.INSTAGRAM, "instagram", IdentityKind.INSTAGRAM, "ig",
                     "Instagram", "name,username")
MESSENGER = Platform(ChannelKind.MESSENGER, "page", IdentityKind.MESSENGER, "fb",
                     "Messenger", "first_name,last_name")
PLATFORMS = {p.kind: p for p in (INSTAGRAM, MESSENGER)}


def of(channel: Channel) -> Platform:
    return PLATFORMS[channel.kind]


def account_id(channel: Channel) -> str:
    """The business's id in the webhooks (`recipient.id` of a customer's message): the
    Instagram professional account's id, or the page's."""
    return str(channel.settings.get("account_id") or channel.settings.get("page_id") or "")
