"""Connecting a WhatsApp number: save the options, register Atende's webhook with the
provider (with a per-channel secret header), and the admin's "send a test message"."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from atende.channels.connection import Connection, webhook_url
from atende.channels.connector import TestResult
from atende.channels.models import Channel, ChannelKind
from atende.connectors.whatsapp.client import META, ProviderError, WhatsAppClient
from atende.connectors.whatsapp.outbound import describe_error
from atende.connectors.whatsapp.phone_numbers import recipient, validated_number
from atende.connectors.whatsapp.settings_form import WhatsAppChannelForm
from atende.connectors.whatsapp.views import SECRET_HEADER
from atende.tenancy.models import Organization

logger = logging.getLogger(__name__)


def save_channel(organization: Organization, form: WhatsAppChannelForm,
                 channel: Channel | None = None) -> Connection:
    """Create or update the channel from a valid form, then register the webhook.

    The channel is saved even when the provider refuses the registration (the answer is
    returned so the admin can fix the key and save again)."""
    data = form.cleaned_data
    with transaction.atomic():
        if channel is None:
            channel = Channel(organization=organization, kind=ChannelKind.WHATSAPP)
        if channel.organization_id != organization.pk or channel.kind != ChannelKind.WHATSAPP:
            raise ValueError("not a WhatsApp channel of this organisation")
        stored = channel.secrets if channel.encrypted_secrets else {}
        channel.name = data["name"]
        channel.service = data.get("service")
        channel.business_calendar = data.get("business_calendar")
        # base_url is kept: it is set by operators (or tests), never by the form.
        channel.settings = {**form.channel_settings(),
                            **({"base_url": channel.settings["base_url"]}
                               if channel.settings.get("base_url") else {})}
        channel.secrets = {
            **stored,
            "api_key": data.get("api_key") or stored.get("api_key", ""),
            "app_secret": data.get("app_secret") or stored.get("app_secret", ""),
            "webhook_secret": stored.get("webhook_secret") or secrets.token_urlsafe(32),
        }
        channel.save()
    return register_webhook(channel)


def register_webhook(channel: Channel) -> Connection:
    url = webhook_url(channel)
    if channel.settings.get("provider") == META:
        # Meta's callback is set in the App Dashboard, with the secret as verify token.
        return Connection(channel, url, False, _(
            "Set this URL as the callback in Meta's App Dashboard, with the channel's verify "
            "token."))
    token = str(channel.secrets.get("webhook_secret"))
    try:
        WhatsAppClient.for_channel(channel).set_webhook(url, {SECRET_HEADER: token})
    except ProviderError as exc:
        logger.warning("webhook registration for WhatsApp channel %s failed: %s",
                       channel.pk, exc)
        return Connection(channel, url, False, describe_error(exc))
    return Connection(channel, url, True, _("The provider will send messages to %(url)s")
                      % {"url": url})


def send_test_message(channel: Channel, number: str, text: str = "") -> TestResult:
    """Send a message to a number the admin typed; the result carries the provider's
    answer. Raises ValidationError for a number that cannot exist."""
    to = recipient(validated_number(number))
    body = text.strip() or _("Atende test message: this WhatsApp channel works.")
    try:
        wamid = WhatsAppClient.for_channel(channel).send_text(to, body)
    except ProviderError as exc:
        return TestResult(ok=False, step="send", message=describe_error(exc))
    return TestResult(ok=True, step="send",
                      message=_("The provider accepted the message (id %(id)s).") % {"id": wamid})


def form_initial(channel: Channel) -> dict[str, Any]:
    """The form's initial values for an existing channel (the API key is never shown)."""
    options = channel.settings
    initial: dict[str, Any] = {k: options.get(k) for k in (
        "provider", "number", "phone_number_id", "waba_id", "idle_expiry_minutes",
        "idle_message", "out_of_hours_message", "answer_reminder_hours", "return_to_bot",
        "bot_id", "hsm_enabled", "hsm_opens_attendance")}
    initial.update(name=channel.name, service=channel.service_id,
                   business_calendar=channel.business_calendar_id)
    for event, mapping in (options.get("templates") or {}).items():
        initial[f"template_{event}"] = mapping.get("name", "")
        initial["template_language"] = mapping.get("language", "pt_BR")
    return initial

