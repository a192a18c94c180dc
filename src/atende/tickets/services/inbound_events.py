"""The pipeline's ingest step (see `channels.pipeline`): stored events of one channel with
their parsed messages → ticket entries, each event's outcome written in the same
transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from atende.channels import pipeline, survey_replies
from atende.channels.connector import Connector, InboundMessage
from atende.channels.models import Channel, InboundEvent
from atende.tickets.errors import TicketError
from atende.tickets.services.ingest import IngestResult, ingest_many

logger = logging.getLogger(__name__)
Outcome = IngestResult | Exception


def ingest_events(channel: Channel, pending: Sequence[tuple[InboundEvent, InboundMessage]],
                  *, first_delivery: bool = False, claim: bool = True,
                  save: bool = True) -> list[tuple[InboundEvent, Outcome]]:
    """Ingest parsed events in order inside the caller's transaction (`ingest_many`: a
    failed message is rolled back alone) and finish each one: processed, duplicate, or
    quarantined with the reason. Returns each event taken with its outcome.

    `claim`: lock the events first and take only those still pending (another worker or an
    admin's "process again" may have finished some meanwhile); a caller that inserted the
    events in this transaction has them already. `save=False` leaves the outcomes' write
    to the caller's single update."""
    if claim:
        still = set(InboundEvent.objects.select_for_update().filter(
            pk__in=[e.pk for e, _m in pending], status__in=pipeline.PENDING,
        ).order_by("pk").values_list("pk", flat=True))  # in id order: no deadlock
        pending = [(e, m) for e, m in pending if e.pk in still]
    # A survey answer (a digit, a button) is the ticket's rating, not a message: it must
    # not reopen the resolved ticket. Its event is finished here and not returned.
    answers = [e for e, m in pending if survey_replies.take(channel, m)]
    for event in answers:
        pipeline.processed(event, None, note="satisfaction survey answer", save=False)
    if answers:
        pending = [(e, m) for e, m in pending if e not in answers]
    results: list[Outcome]
    try:
        with transaction.atomic():
            results = ingest_many(channel, [m for _e, m in pending],
                                  first_delivery=first_delivery)
    except Exception as exc:  # it reports each message's failure; should it fail as a whole
        results = [exc] * len(pending)
    taken: list[tuple[InboundEvent, Outcome]] = []
    for (event, _message), result in zip(pending, results, strict=True):
        if isinstance(result, Exception):
            if not isinstance(result, ValidationError | TicketError):
                logger.error("inbound event %s of channel %s failed", event.pk, channel.pk,
                             exc_info=result)
            pipeline.quarantine(event, result, save=False)
        else:
            pipeline.processed(event, result.message.pk, duplicate=result.duplicate,
                               save=False)
        taken.append((event, result))
    if save:
        pipeline.save_outcomes([*answers, *(e for e, _r in taken)])
    return taken


def process_events(connector: Connector, channel: Channel,
                   events: Sequence[InboundEvent]) -> list[tuple[InboundEvent, Outcome]]:
    """The whole pipeline for stored events of a connector that needs nothing else: parse
    each one (an unreadable event is quarantined with the reason), then ingest them
    together. Never raises for a bad event."""
    parsed: list[tuple[InboundEvent, InboundMessage]] = []
    for event in events:
        if event.status not in pipeline.PENDING:
            continue
        try:
            parsed.append((event, connector.parse(channel, event)))
        except Exception as exc:
            pipeline.quarantine(event, exc)
    if not parsed:
        return []
    with transaction.atomic():
        return ingest_events(channel, parsed)
