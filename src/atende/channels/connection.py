"""What connecting a webhook channel answers the admin, and the URL its provider calls.

A webhook connector's URLconf is included under its kind (`app_name = "<kind>"`) with the
delivery route named `webhook` (`/<kind>/<channel id>/webhook`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from atende.channels.models import Channel


@dataclass(frozen=True)
class Connection:
    channel: Channel
    webhook_url: str
    registered: bool  # the provider accepted the webhook's registration
    message: str  # what the provider answered, for the admin


def webhook_url(channel: Channel) -> str:
    """The public URL of the channel's webhook (`PUBLIC_URL` and its kind's route)."""
    path = reverse(f"{channel.kind}:webhook", kwargs={"channel_id": channel.pk})
    return f"{settings.PUBLIC_URL}{path}"
