"""The sender's name and Instagram username (the User Profile API), asked once: only for a
sender who is not a contact yet. The identity is the id Meta gives the sender on this
page; the username goes in the contact's name, which a merge keeps."""

from __future__ import annotations

import dataclasses
import logging

from atende.channels.connector import InboundMessage
from atende.channels.meta import GraphCallError
from atende.channels.models import Channel
from atende.connectors.meta_messaging.client import MessagingClient
from atende.connectors.meta_messaging.kinds import INSTAGRAM, of
from atende.contacts.models import ContactIdentity

logger = logging.getLogger(__name__)


def named(channel: Channel, message: InboundMessage) -> InboundMessage:
    ref = message.contact
    if ref.name or ContactIdentity.objects.for_org(channel.organization_id).filter(
            kind=ref.kind, value=ref.value).exists():
        return message
    try:
        found = MessagingClient.for_channel(channel).profile(ref.value, of(channel).profile_fields)
    except GraphCallError as exc:  # the name is a nicety: the message goes in without it
        logger.info("profile of %s on channel %s not read: %s", ref.value, channel.pk, exc)
        return message
    name = display_name(channel, found)
    metadata = {**message.metadata, "username": str(found.get("username") or "")}
    return dataclasses.replace(message, contact=dataclasses.replace(ref, name=name),
                               metadata=metadata)


def display_name(channel: Channel, found: dict[str, object]) -> str:
    if of(channel) == INSTAGRAM:
        name, username = str(found.get("name") or "").strip(), str(found.get("username") or "")
        if username:
            return (f"{name} (@{username})" if name else f"@{username}")[:200]
        return name[:200]
    return " ".join(str(found.get(k) or "").strip()
                    for k in ("first_name", "last_name")).strip()[:200]
