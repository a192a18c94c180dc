"""Connecting a Telegram bot: prove the token (getMe), save the channel with the token and a
new webhook secret encrypted, and register the webhook (setWebhook with that secret)."""

from __future__ import annotations

import logging
import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from atende.channels.connection import Connection, webhook_url
from atende.channels.models import Channel, ChannelKind
from atende.connectors.telegram.client import TelegramClient, TelegramError
from atende.connectors.telegram.outbound import describe_error
from atende.connectors.telegram.settings_form import TelegramChannelForm
from atende.tenancy.models import Organization

logger = logging.getLogger(__name__)


def save_channel(organization: Organization, form: TelegramChannelForm,
                 channel: Channel | None = None) -> Connection:
    """Create or update the channel from a valid form (which proved a new token), then
    register the webhook. The channel is
    saved even when the webhook registration fails: the answer is returned so the admin
    can fix it and save again."""
    data = form.cleaned_data
    token, bot = data.get("bot_token") or "", form.bot
    with transaction.atomic():
        if channel is None:
            channel = Channel(organization=organization, kind=ChannelKind.TELEGRAM)
        if channel.organization_id != organization.pk or channel.kind != ChannelKind.TELEGRAM:
            raise ValueError("not a Telegram channel of this organisation")
        stored = channel.secrets if channel.encrypted_secrets else {}
        channel.name = data["name"]
        channel.service = data.get("service")
        options = dict(channel.settings)
        if bot is not None:
            options.update(bot_id=bot.get("id"), bot_username=str(bot.get("username") or ""))
        channel.settings = options
        channel.secrets = {
            **stored,
            "bot_token": token or stored.get("bot_token", ""),
            # 1-256 characters of A-Z a-z 0-9 _ - (token_urlsafe's alphabet).
            "webhook_secret": stored.get("webhook_secret") or secrets.token_urlsafe(48),
        }
        channel.save()
    return register_webhook(channel)


def register_webhook(channel: Channel) -> Connection:
    url = webhook_url(channel)
    try:
        TelegramClient.for_channel(channel).set_webhook(
            url, str(channel.secrets.get("webhook_secret")))
    except TelegramError as exc:
        logger.warning("webhook registration for Telegram channel %s failed: %s",
                       channel.pk, exc)
        return Connection(channel, url, False, describe_error(exc))
    bot = channel.settings.get("bot_username") or ""
    return Connection(channel, url, True, _("The bot @%(bot)s will send its messages to "
                                            "%(url)s") % {"bot": bot, "url": url})
