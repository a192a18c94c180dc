"""Creating and editing an Instagram or Messenger channel. The channel is saved with a new
verify token (for the webhook's subscription handshake) and the app secret encrypted; the
page is connected afterwards with Facebook Login (`consent`)."""

from __future__ import annotations

import secrets

from django.db import transaction

from atende.channels.connection import webhook_url
from atende.channels.models import Channel
from atende.connectors.meta_messaging.kinds import PLATFORMS
from atende.connectors.meta_messaging.settings_form import MetaChannelForm
from atende.tenancy.models import Organization


@transaction.atomic
def save_channel(organization: Organization, kind: str, form: MetaChannelForm,
                 channel: Channel | None = None) -> Channel:
    if kind not in PLATFORMS:
        raise ValueError(f"not a Messenger Platform kind: {kind}")
    data = form.cleaned_data
    if channel is None:
        channel = Channel(organization=organization, kind=kind)
    if channel.organization_id != organization.pk or channel.kind != kind:
        raise ValueError("not a channel of this kind and organisation")
    stored = channel.secrets if channel.encrypted_secrets else {}
    channel.name = data["name"]
    channel.service = data.get("service")
    options = dict(channel.settings)
    if data["page_id"] and data["page_id"] != options.get("page_id"):
        # Another page: the stored page's token is not this page's.
        stored.pop("page_token", None)
    options.update(app_id=data["app_id"], human_agent=bool(data.get("human_agent")),
                   page_id=data["page_id"] or options.get("page_id", ""))
    channel.settings = options
    channel.secrets = {**stored,
                       "app_secret": data.get("app_secret") or stored.get("app_secret", ""),
                       "verify_token": stored.get("verify_token") or secrets.token_urlsafe(32)}
    channel.save()
    return channel


def url_and_token(channel: Channel) -> tuple[str, str]:
    """What the admin enters in the Meta app's webhook settings."""
    return webhook_url(channel), str(channel.secrets.get("verify_token") or "")
