"""The satisfaction survey on Telegram (CORE-14): the wording with the signed link, and a
one-time reply keyboard of the digits 1-5, whose tap the customer sends back as text (a
typed digit counts the same)."""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext as _

from atende.channels.connector import CsatInvitation, InboundMessage, SendResult
from atende.channels.models import Channel
from atende.connectors.telegram.client import TelegramClient, TelegramError
from atende.connectors.telegram.outbound import describe_error
from atende.contacts.models import IdentityKind

_DIGIT = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")


def invite(channel: Channel, invitation: CsatInvitation) -> SendResult:
    chat_id = next((k.removeprefix("tg:") for k in sorted(invitation.thread_keys)
                    if k.startswith("tg:")), "")
    ref = invitation.recipient
    if not chat_id and ref is not None and ref.kind == IdentityKind.TELEGRAM:
        chat_id = ref.value  # a user's private chat with the bot has the user's id
    if not chat_id:
        return SendResult(ok=False, error=_("The contact has no Telegram chat."))
    with translation.override(invitation.language):
        text = "\n\n".join([invitation.text, _("Reply with a digit from 1 to 5, or rate and "
                                               "comment here: %(url)s") % {"url": invitation.url}])
    keyboard = {"keyboard": [[{"text": str(score)} for score, _label in
                              sorted(invitation.scores)]],
                "one_time_keyboard": True, "resize_keyboard": True}
    try:
        message_id = TelegramClient.for_channel(channel).send_message(chat_id, text, keyboard)
    except TelegramError as exc:
        return SendResult(ok=False, error=describe_error(exc), retryable=exc.retryable,
                          retry_after=exc.retry_after)
    return SendResult(ok=True, external_id=message_id)


def score_of(message: InboundMessage) -> int | None:
    if message.attachments:
        return None
    found = _DIGIT.match(message.text)
    return int(found.group(1)) if found else None
