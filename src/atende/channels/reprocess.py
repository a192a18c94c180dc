"""Process a quarantined inbound event again, through its connector's own receive path.

Connectors never import each other: each registers its function here from its
AppConfig.ready, keyed by channel kind, and the settings screen dispatches by kind.
"""

from __future__ import annotations

from collections.abc import Callable

from atende.channels.models import InboundEvent, InboundStatus

# A reprocessor takes a quarantined event, runs the ingest again and stores the outcome
# on the event (status, error, message); it must never raise for bad input.
Reprocessor = Callable[[InboundEvent], None]
_REPROCESSORS: dict[str, Reprocessor] = {}


class NotReprocessable(LookupError):
    """No connector registered a way to process this kind of channel's events again."""


def register(kind: str, reprocessor: Reprocessor) -> None:
    _REPROCESSORS[kind] = reprocessor


def can_reprocess(kind: str) -> bool:
    return kind in _REPROCESSORS


def reprocess(event: InboundEvent) -> str:
    """Run the event's ingest again; returns the status it ends with. Idempotent: only a
    quarantined event is processed, anything else (processed meanwhile) is left alone."""
    try:
        reprocessor = _REPROCESSORS[event.channel.kind]
    except KeyError:
        raise NotReprocessable(event.channel.kind) from None
    current = InboundEvent.objects.filter(pk=event.pk).values_list("status", flat=True).first()
    if current != InboundStatus.QUARANTINED:
        return str(current)
    reprocessor(event)
    return str(InboundEvent.objects.filter(pk=event.pk).values_list("status", flat=True).get())
