"""The seam through which a customer's answer to a satisfaction survey leaves the inbound
pipeline before ingest: a digit or a button that answers an invitation is recorded as the
ticket's rating (by the survey app, registered at start-up) instead of becoming a message
that would reopen the resolved ticket.

The kit knows nothing of surveys: it asks the registered taker, which asks the channel's
connector (`Connector.parse_csat_reply`) and looks for an invitation waiting for that
sender."""

from __future__ import annotations

from collections.abc import Callable

from atende.channels.connector import InboundMessage
from atende.channels.models import Channel

Taker = Callable[[Channel, InboundMessage], bool]
_takers: list[Taker] = []


def register(taker: Taker) -> None:
    if taker not in _takers:
        _takers.append(taker)


def take(channel: Channel, message: InboundMessage) -> bool:
    """True when the message was a survey answer and has been recorded (inside the
    caller's transaction): the caller finishes its event without ingesting it."""
    return any(taker(channel, message) for taker in _takers)
