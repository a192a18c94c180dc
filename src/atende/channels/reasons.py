"""Why an inbound event ended as it did: one way to write it on the event, one way to say
it to a person. Every channel's events go through here, so a failure reads the same
whichever provider it came from."""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The stored text is the technical detail an admin can copy into a bug report; the log
# shows the sentence of `explain` beside it.
REASON_MAX_CHARS = 2000
UNREADABLE = "unreadable"


class Unreadable(ValueError):
    """A connector could not read a raw event: its body is empty, broken or not the
    provider's format. Raised by `parse`; the event is quarantined, never dropped."""

    @classmethod
    def of(cls, exc: BaseException) -> Unreadable:
        """Reading failed with `exc` (kept as the cause, whose words the reason shows)."""
        unreadable = cls(str(exc))
        unreadable.__cause__ = exc
        return unreadable


def cap(text: str) -> str:
    return text[:REASON_MAX_CHARS]


def reason(exc: BaseException) -> str:
    """The reason written on an event that failed: ``Type: message``, capped.

    Django's ValidationError joins its messages with "; " (its str() is a Python list);
    a parse failure reads ``unreadable: …`` on every channel."""
    if isinstance(exc, Unreadable):
        cause = exc.__cause__
        detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
        return cap(f"{UNREADABLE}: {detail}")
    messages = getattr(exc, "messages", None)
    text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(exc)
    return cap(f"{type(exc).__name__}: {text}")


# The stored reasons in words a person understands. Older rows keep the prefixes they
# were written with (e.g. "unreadable mail:"), so those stay here too.
REASONS: tuple[tuple[re.Pattern[str], Promise], ...] = tuple(
    (re.compile(pattern), sentence) for pattern, sentence in (
        (r"^unreadable:", _("The event could not be read: it is empty, its format is broken "
                            "or it does not say who sent it.")),
        (r"^unreadable mail:", _("The mail could not be read: it is empty or its format is "
                                 "broken.")),
        (r"^our own mail", _("Our own mail came back; it was not taken in, to avoid a loop.")),
        (r"^ignored by rule", _("A processing rule of this channel says to ignore it.")),
        (r"^the stored \.eml is missing", _("The original mail file is missing from the "
                                            "storage.")),
        (r"^processed again as event", _("Processed again: it became another entry of this "
                                         "log.")),
        (r"^stored again as separate events", _("Processed again: its events were stored "
                                                "separately.")),
        (r"^provider error:", _("The provider reported an error instead of a message.")),
        (r"^with the bot", _("The conversation is with the bot; no ticket yet.")),
        (r"^(media download:|MediaDownloadFailed:)", _(
            "The media file could not be downloaded yet; it will be tried again.")),
        (r"^no message with this id yet", _("A status arrived before its message; it will "
                                            "be tried again.")),
        (r"^no message with this id", _("A status for a message that is not in Atende.")),
        (r"^the message was still being sent", _("A status arrived while the message was "
                                                 "still being sent.")),
        (r"^an answer of the bot", _("A status of an answer the bot sent.")),
        (r"^(JSONDecodeError|InvalidPayload):", _("The provider sent a body that could not "
                                                  "be read.")),
        (r"^ValidationError:", _("The sender's data was refused as invalid.")),
        (r"^(AttachmentTooLarge|TicketError|InvalidTransition):", _("The ticket could not "
                                                                    "take this message.")),
        (r"^(OperationalError|DatabaseError|InterfaceError|TimeoutError|ConnectionError)",
         _("A temporary failure while saving. Process it again.")),
    ))
UNKNOWN_REASON = _("An unexpected error stopped the processing. Once it is fixed, process "
                   "it again.")


def explain(error: str) -> Promise | str:
    """The sentence for a stored reason; empty when there is nothing to explain."""
    if not error:
        return ""
    for pattern, sentence in REASONS:
        if pattern.search(error):
            return sentence
    return UNKNOWN_REASON
