"""`OutboundMessage` → Telegram: the text with `sendMessage`, files with `sendPhoto` (JPEG and
PNG pictures) or `sendDocument`, the text riding as the first file's caption when it fits.
429 (with Telegram's `retry_after`), 5xx and network errors are retried by the kit's
outbound pipeline."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from atende.channels.connector import OutboundMessage, SendResult, TestResult
from atende.channels.models import Channel
from atende.connectors.telegram.client import TelegramClient, TelegramError
from atende.contacts.models import IdentityKind

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
PHOTO_LIMIT = 10 * 1024 * 1024  # larger pictures go as documents


def send(channel: Channel, message: OutboundMessage) -> SendResult:
    with translation.override(channel.organization.language):
        chat_id = chat_of(message)
        if not chat_id:
            return SendResult(ok=False, error=_("The contact has no Telegram chat."))
        try:
            return SendResult(ok=True, external_id=_send(
                TelegramClient.for_channel(channel), chat_id, message))
        except TelegramError as exc:
            return SendResult(ok=False, error=describe_error(exc), retryable=exc.retryable,
                              retry_after=exc.retry_after)


def chat_of(message: OutboundMessage) -> str:
    """The chat the customer wrote from (the thread key ingest left), else the Telegram
    user id: a user's private chat with the bot has the user's id."""
    for key in sorted(message.thread_keys):
        if key.startswith("tg:"):
            return key.removeprefix("tg:")
    ref = message.recipient
    if ref is not None and ref.kind == IdentityKind.TELEGRAM:
        return ref.value
    return ""


def _send(client: TelegramClient, chat_id: str, message: OutboundMessage) -> str:
    """Returns the first message's id (the timeline entry's external id). Files go first:
    a retry after a failed file then does not repeat a text already sent."""
    text = message.text.strip() or strip_tags(message.html).strip()
    if not text and not message.attachments:
        raise TelegramError(None, _("Nothing to send."))
    caption = text if message.attachments and len(text) <= CAPTION_LIMIT else ""
    ids = []
    for position, attachment in enumerate(message.attachments):
        with default_storage.open(attachment.storage_name, "rb") as handle:
            data = handle.read()
        photo = attachment.content_type in PHOTO_TYPES and len(data) <= PHOTO_LIMIT
        ids.append(client.send_file(chat_id, attachment.filename, data,
                                    attachment.content_type, photo=photo,
                                    caption=caption if position == 0 else ""))
    if text and not caption:
        for start in range(0, len(text), TEXT_LIMIT):
            ids.append(client.send_message(chat_id, text[start:start + TEXT_LIMIT]))
    return ids[0]


def check_connection(channel: Channel) -> TestResult:
    """The bot (getMe) and its webhook (getWebhookInfo): Telegram's last delivery error,
    if any, is the answer."""
    client = TelegramClient.for_channel(channel)
    try:
        bot = client.get_me()
        info = client.get_webhook_info()
    except TelegramError as exc:
        return TestResult(ok=False, step="provider", message=describe_error(exc))
    username = f"@{bot.get('username') or ''}"
    if not info.get("url"):
        return TestResult(ok=False, step="webhook", message=_(
            "The bot %(bot)s has no webhook: save the channel again to register it.")
            % {"bot": username})
    if info.get("last_error_message"):
        return TestResult(ok=False, step="webhook", message=_(
            "Telegram could not deliver to Atende: %(error)s") % {
            "error": info["last_error_message"]})
    return TestResult(ok=True, step="webhook", message=_(
        "The bot %(bot)s sends its messages to %(url)s (%(pending)s waiting).") % {
        "bot": username, "url": info.get("url"), "pending": info.get("pending_update_count", 0)})


def describe_error(exc: TelegramError) -> str:
    if exc.status == 401:
        return _("Telegram refused the bot token (401 Unauthorized).")
    if exc.status == 429:
        return _("Telegram asked to slow down; trying again in %(seconds)s s.") % {
            "seconds": int(exc.retry_after or 0)}
    return str(exc)
