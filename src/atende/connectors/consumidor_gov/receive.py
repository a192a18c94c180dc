"""Synchronisation (CG-2, CG-7): in the API's hours, read the complaints of the recent days
and the complaints still open, store each trâmite as a raw event (deduplicated by
`<protocol>:<code>`), and process what is new in the platform's order."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import translation

from atende.channels import pipeline
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.consumidor_gov import complaints, hours
from atende.connectors.consumidor_gov.client import ConsumidorClient, ConsumidorError
from atende.connectors.consumidor_gov.config import ApiConfig
from atende.connectors.consumidor_gov.hours import BRASILIA, next_open
from atende.connectors.consumidor_gov.inbound import provider_id, read_step, to_inbound
from atende.connectors.consumidor_gov.models import FINISHED, Complaint
from atende.tickets.models import Direction, Message
from atende.tickets.services.inbound_events import ingest_events
from atende.tickets.services.ingest import IngestResult

logger = logging.getLogger(__name__)
FIRST_SYNC_DAYS = 10  # the company's time to answer: older complaints are not new work


@dataclass
class SyncResult:
    skipped: bool = False
    next_at: datetime | None = None
    complaints: int = 0
    stored: int = 0
    error: str = ""
    sent: int = 0
    protocols: list[str] = field(default_factory=list)


def sync_channel(channel: Channel) -> SyncResult:
    """One synchronisation of the channel. Outside the API's hours it calls nothing and says
    when the next window opens. A failure stops the reading (what was stored is processed)
    and is kept on the channel for the settings screen."""
    now = hours.current_time()
    if not hours.open_for(channel.settings, now):
        return SyncResult(skipped=True, next_at=next_open(now))
    result = SyncResult()
    client = ConsumidorClient.for_channel(channel)
    try:
        for protocol in _protocols(channel, client, now):
            detail = client.get_complaint(protocol)
            result.stored += store_complaint(channel, detail)
            result.complaints += 1
            result.protocols.append(protocol)
    except ConsumidorError as exc:
        result.error = str(exc)
        logger.warning("Consumidor.gov.br sync of channel %s stopped: %s", channel.pk, exc)
    process_pending(channel)
    from atende.connectors.consumidor_gov.outbound import flush_waiting

    result.sent = flush_waiting(channel)
    options = dict(channel.settings)
    options["last_error"] = result.error
    if not result.error:
        options["synced_at"] = now.isoformat()
    Channel.objects.filter(pk=channel.pk).update(settings=options)
    channel.settings = options
    return result


def _protocols(channel: Channel, client: ConsumidorClient, now: datetime) -> list[str]:
    """The complaints opened since the day before the last sync, and those still open here
    (an answer, a complement or the evaluation can come to any of them)."""
    last = _last_sync(channel)
    start = (last or now - timedelta(days=FIRST_SYNC_DAYS)).astimezone(BRASILIA).date()
    listed = client.list_complaints(start - timedelta(days=1), now.astimezone(BRASILIA).date())
    protocols = dict.fromkeys(str(item["protocolo"]) for item in listed)
    known = Complaint.objects.filter(channel=channel).exclude(status__in=FINISHED)
    protocols.update(dict.fromkeys(known.order_by("pk").values_list("protocol", flat=True)))
    return list(protocols)


def _last_sync(channel: Channel) -> datetime | None:
    try:
        return datetime.fromisoformat(str(channel.settings.get("synced_at") or ""))
    except ValueError:
        return None


def store_complaint(channel: Channel, detail: dict[str, Any]) -> int:
    """The complaint's header, and each of its trâmites as a raw event; returns how many
    trâmites were new."""
    complaints.upsert(channel, detail)
    header = {k: v for k, v in detail.items() if k != "tramites"}
    new = 0
    for tramite in detail.get("tramites") or []:
        if not isinstance(tramite, dict) or tramite.get("codigo") in (None, ""):
            continue
        _event, created = pipeline.store(channel, provider_id(str(detail["protocolo"]), tramite),
                                         {"complaint": header, "tramite": tramite})
        new += created
    return new


def process_pending(channel: Channel) -> None:
    events = list(InboundEvent.objects.filter(channel=channel, status=InboundStatus.RECEIVED)
                  .order_by("pk")[:500])
    process_stored(channel, events)


def process_stored(channel: Channel, events: list[InboundEvent]) -> None:
    """Each stored trâmite in the platform's order (protocol, then code), whatever order
    it was stored in; one that fails is quarantined with the reason, never dropped."""
    config = ApiConfig.of(channel.settings)
    read = []
    for event in events:
        if event.status not in pipeline.PENDING:
            continue
        try:
            complaint, step = read_step(event, config)
        except Exception as exc:
            pipeline.quarantine(event, exc)
            continue
        read.append((event, complaint, step))
    read.sort(key=lambda r: (r[2].protocol, r[2].code))
    with translation.override(channel.organization.language):
        for event, detail, step in read:
            try:
                with transaction.atomic():
                    _process(channel, event, detail, step)
            except Exception as exc:
                logger.warning("trâmite event %s of channel %s failed", event.pk, channel.pk,
                               exc_info=True)
                pipeline.quarantine(event, exc)


def _process(channel: Channel, event: InboundEvent, detail: dict[str, Any], step: Any) -> None:
    complaint = Complaint.objects.select_related("ticket", "last_agent").filter(
        channel=channel, protocol=step.protocol).first() or complaints.upsert(channel, detail)
    if step.by_company:
        message = complaints.record_company_step(channel, complaint, step)
        pipeline.processed(event, message.pk if message else None, duplicate=message is None)
        return
    if step.evaluation is not None:
        if complaint.ticket is None:
            raise LookupError(f"the evaluation of {step.protocol} came before its complaint")
        message = complaints.record_evaluation(channel, complaint, step)
        pipeline.processed(event, message.pk if message else None, duplicate=message is None)
        return
    [(_event, outcome)] = ingest_events(channel, [(event, to_inbound(channel, detail, step))])
    if not isinstance(outcome, IngestResult):
        return  # quarantined by the kit with its reason
    complaints.link_ticket(complaint, outcome.ticket)
    if outcome.duplicate:
        return
    if step.is_complaint:  # the complaint's text is an internal comment (CG-2)
        Message.objects.filter(pk=outcome.message.pk).update(direction=Direction.NOTE)
    complaints.consumer_wrote(complaint, outcome.ticket, outcome.reopened)
