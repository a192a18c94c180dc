"""The satisfaction survey on WhatsApp (CORE-14): an interactive list message with the five
scores, and the signed link for a comment. WhatsApp allows at most three reply buttons in
one message, so the five scores are the rows of a list; a reply with a digit 1-5 counts
too. Free-form messages (interactive ones included) only go out inside the 24-hour
customer service window: outside it the invitation is not sent."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from atende.channels.connector import CsatInvitation, InboundMessage, SendResult
from atende.channels.models import Channel
from atende.connectors.whatsapp.client import ProviderError, WhatsAppClient
from atende.connectors.whatsapp.outbound import describe_error, window_closed_message
from atende.connectors.whatsapp.phone_numbers import canonical_number, recipient
from atende.connectors.whatsapp.window import window_state
from atende.contacts.models import IdentityKind
from atende.tickets.models import Ticket

REPLY_PREFIX = "csat:"
_DIGIT = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")
# Meta's limits for an interactive list (characters).
BODY_MAX, BUTTON_MAX, ROW_TITLE_MAX, SECTION_TITLE_MAX = 1024, 20, 24, 24


def invite(channel: Channel, invitation: CsatInvitation) -> SendResult:
    to = _number(invitation)
    if not to:
        return SendResult(ok=False, error=_("The contact has no WhatsApp number."))
    ticket = Ticket.objects.for_org(channel.organization_id).get(pk=invitation.ticket_id)
    if not window_state(ticket, channel).open:
        return SendResult(ok=False, error=window_closed_message())
    try:
        wamid = WhatsAppClient.for_channel(channel).send(
            to, "interactive", interactive_list(invitation))
    except ProviderError as exc:
        return SendResult(ok=False, error=describe_error(exc), retryable=exc.retryable)
    return SendResult(ok=True, external_id=wamid)


def _number(invitation: CsatInvitation) -> str:
    """The number the customer wrote from (the thread key ingest left), else theirs."""
    for key in sorted(invitation.thread_keys):
        if key.startswith("wa:"):
            return recipient(key.removeprefix("wa:"))
    ref = invitation.recipient
    if ref is None or ref.kind not in (IdentityKind.WHATSAPP, IdentityKind.PHONE):
        return ""
    try:
        return recipient(canonical_number(ref.value))
    except ValidationError:
        return ""


def interactive_list(invitation: CsatInvitation) -> dict[str, object]:
    with translation.override(invitation.language):
        comment = _("To add a comment: %(url)s") % {"url": invitation.url}
        button = pgettext("whatsapp csat button", "Rate")
        section = pgettext("whatsapp csat section", "Score")
    body = f"{invitation.text}\n\n{comment}"
    if len(body) > BODY_MAX:
        body = invitation.text[:BODY_MAX]
    return {
        "type": "list",
        "body": {"text": body},
        "action": {
            "button": button[:BUTTON_MAX],
            "sections": [{"title": section[:SECTION_TITLE_MAX], "rows": [
                {"id": f"{REPLY_PREFIX}{score}", "title": label[:ROW_TITLE_MAX]}
                for score, label in invitation.scores]}],
        },
    }


def score_of(message: InboundMessage) -> int | None:
    """The score of a list choice (`csat:N`) or of a lone digit 1-5."""
    reply_id = str(message.metadata.get("reply_id") or "")
    if reply_id.startswith(REPLY_PREFIX):
        value = reply_id.removeprefix(REPLY_PREFIX)
        return int(value) if value in {"1", "2", "3", "4", "5"} else None
    if message.metadata.get("type") != "text":
        return None
    found = _DIGIT.match(message.text)
    return int(found.group(1)) if found else None
