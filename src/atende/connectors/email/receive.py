"""One raw mail from a mailbox → stored, then ingested or quarantined with its reason.

The raw bytes are written to storage first (the `.eml` stays downloadable and nothing
received is lost); the `InboundEvent` row points at the file. Whatever goes wrong with one
mail ends as a quarantined event: the poller always goes on with the next one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from atende.connectors.email.config import EmailSettings
from atende.connectors.email.inbound import ParsedMail, parse, to_inbound
from atende.connectors.email.rules import evaluate, route
from atende.connectors.models import Channel, InboundEvent, InboundStatus
from atende.tickets.errors import TicketError
from atende.tickets.models import DeliveryStatus, Direction, Message
from atende.tickets.services.ingest import ingest
from atende.tickets.services.replies import update_delivery_status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    status: str
    event_id: int
    message_id: int | None = None
    reason: str = ""


def raw_storage_name(channel: Channel, raw: bytes) -> str:
    digest = hashlib.sha256(raw).hexdigest()
    return f"email/raw/{channel.organization_id}/{channel.pk}/{digest[:2]}/{digest}.eml"


def store_raw(channel: Channel, raw: bytes) -> str:
    """Content-addressed: the same mail fetched twice is stored once."""
    name = raw_storage_name(channel, raw)
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(raw))
    return name


def receive(channel: Channel, raw: bytes, *, source: str = "") -> Receipt:
    """Take one mail in. Idempotent by Message-ID (a hash when missing): a second delivery
    is recorded as duplicate and adds nothing. Never raises for bad mail."""
    cfg = EmailSettings.of(channel)
    stored = store_raw(channel, raw)
    payload = {"raw": stored, "size": len(raw), "source": source}
    try:
        parsed: ParsedMail | None = parse(raw, cfg.address)
    except Exception as exc:
        parsed = None
        parse_error = f"unreadable mail: {type(exc).__name__}: {exc}"
    provider_id = parsed.message_id if parsed else "sha256:" + stored.rsplit("/", 1)[-1][:-4]
    if parsed is not None and parsed.cids:  # the timeline shows inline images through this map
        payload["cids"] = parsed.cids
    # One transaction per mail, bookkeeping included: the event row, the ticket entry and
    # the event's outcome commit together (the raw file is already stored). The caller marks
    # the mail seen only after this returns.
    with transaction.atomic():
        event, created = _event(channel, provider_id[:255], payload)
        if not created and event.status != InboundStatus.RECEIVED:
            return Receipt(InboundStatus.DUPLICATE, event.pk, event.message_id)
        if parsed is None:
            return _quarantine(event, parse_error)
        return _take_in(channel, cfg, event, parsed, payload, first_delivery=created)


def _take_in(channel: Channel, cfg: EmailSettings, event: InboundEvent, parsed: ParsedMail,
             payload: dict[str, object], *, first_delivery: bool) -> Receipt:
    if parsed.cids and not first_delivery:  # an event stored before without its map
        InboundEvent.objects.filter(pk=event.pk).update(payload=payload)
    if parsed.our_loop:
        return _finish(event, InboundStatus.PROCESSED, None, "our own mail: not taken in")
    if parsed.report is not None:
        _mark_bounced(channel, parsed)
    outcome = evaluate(channel, parsed)
    if outcome.ignore is not None:
        return _finish(event, InboundStatus.PROCESSED, None,
                       f"ignored by rule {outcome.ignore.pk}: {outcome.ignore.name}")
    if outcome.no_auto_reply is not None and not parsed.no_auto_reply:
        parsed.no_auto_reply = f"rule {outcome.no_auto_reply.pk}"
    if parsed.no_auto_reply:  # read by the notifications sent once the ticket committed
        payload["no_auto_reply"] = parsed.no_auto_reply
        InboundEvent.objects.filter(pk=event.pk).update(payload=payload)
    try:
        # A savepoint: a failed ingest leaves the transaction usable for the quarantine.
        with transaction.atomic():
            result = ingest(to_inbound(parsed, channel.pk, own_address=cfg.address,
                                       reopen_closed=cfg.reopen_closed),
                            channel=channel, first_delivery=first_delivery)
    except Exception as exc:
        logger.warning("e-mail %s on channel %s quarantined: %s", event.pk, channel.pk,
                       type(exc).__name__)
        return _quarantine(event, _reason(exc))
    if result.created_ticket and outcome.matched:
        try:
            with transaction.atomic():
                route(result.ticket, outcome)
        except TicketError as exc:  # a stale rule (e.g. bad priority) never loses the mail
            logger.warning("e-mail rules on channel %s: %s", channel.pk, exc.message)
    status = InboundStatus.DUPLICATE if result.duplicate else InboundStatus.PROCESSED
    return _finish(event, status, result.message.pk, "")


def reprocess(event: InboundEvent) -> None:
    """Take a quarantined mail in again from its stored `.eml` (after a fix, or when the
    failure was transient); the outcome replaces the event's status."""
    name = event.payload.get("raw")
    try:
        with default_storage.open(name, "rb") as handle:
            raw = handle.read()
    except (OSError, TypeError, ValueError):
        _quarantine(event, "the stored .eml is missing")
        return
    # Back to "received" so `receive` processes it instead of calling it a duplicate.
    if not InboundEvent.objects.filter(pk=event.pk, status=InboundStatus.QUARANTINED).update(
            status=InboundStatus.RECEIVED):
        return  # processed meanwhile
    receipt = receive(event.channel, raw, source=str(event.payload.get("source") or ""))
    if receipt.event_id != event.pk:
        # The mail now parses and got its own event (keyed by its Message-ID).
        _finish(event, InboundStatus.DUPLICATE, receipt.message_id,
                f"processed again as event {receipt.event_id}")


def _event(channel: Channel, provider_id: str, payload: dict[str, object]) -> tuple[
        InboundEvent, bool]:
    # Insert first: a new mail is the common case, a redelivery hits the unique constraint.
    try:
        with transaction.atomic():
            return InboundEvent.objects.create(
                organization_id=channel.organization_id, channel=channel,
                provider_id=provider_id, payload=payload,
            ), True
    except IntegrityError:
        return InboundEvent.objects.get(channel=channel, provider_id=provider_id), False


def _reason(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    text = "; ".join(str(m) for m in messages) if messages else str(exc)
    return f"{type(exc).__name__}: {text}"[:2000]


def _quarantine(event: InboundEvent, reason: str) -> Receipt:
    return _finish(event, InboundStatus.QUARANTINED, None, reason)


def _finish(event: InboundEvent, status: str, message_id: int | None, reason: str) -> Receipt:
    InboundEvent.objects.filter(pk=event.pk).update(
        status=status, message_id=message_id, error=reason[:2000],
        processed_at=timezone.now())
    return Receipt(status, event.pk, message_id, reason)


def _mark_bounced(channel: Channel, parsed: ParsedMail) -> None:
    """A DSN names the Message-ID of our mail that failed: that message shows failed."""
    assert parsed.report is not None
    ids = parsed.report.original_ids
    if not ids:
        return
    for message in Message.objects.for_org(channel.organization_id).filter(
            channel=channel, direction=Direction.OUTBOUND, external_id__in=ids):
        update_delivery_status(message, DeliveryStatus.FAILED,
                               reason=f"bounced: {parsed.report.reason}")
