"""One raw mail from a mailbox → stored, then ingested or quarantined with its reason.

The raw bytes are written to storage first (the `.eml` stays downloadable and nothing
received is lost); the `InboundEvent` row points at it (`raw_store`). Whatever goes wrong with one
mail ends as a quarantined event: the poller always goes on with the next one.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from django.db import DatabaseError, IntegrityError, transaction

from atende.bulk_insert import bulk_insert
from atende.channels import pipeline
from atende.channels.connector import InboundMessage
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import reason
from atende.connectors.email import raw_store
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.inbound import ParsedMail, parse_or_reason, to_inbound
from atende.connectors.email.models import ProcessingRule
from atende.connectors.email.rules import RuleOutcome, active_rules, evaluate, route
from atende.connectors.email.ticket_events import on_mails_joined
from atende.tickets.errors import TicketError
from atende.tickets.models import DeliveryStatus, Direction, Message
from atende.tickets.services.ingest import IngestResult, ingest_many
from atende.tickets.services.replies import update_delivery_status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    status: str
    event_id: int
    message_id: int | None = None
    reason: str = ""


# A batch is one transaction: its rows commit together, then the caller marks its mails seen.
# Bounded by count and by size (the raws and their parsed copies are held in memory).
BATCH_MAILS = 100
BATCH_BYTES = 20 * 1024 * 1024
# A batch that meets a deadlock is taken in again; after the last attempt, mail by mail.
BATCH_ATTEMPTS = 3
# Deadlock, serialization failure, lock not available (PostgreSQL).
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


@dataclass
class _Mail:
    """One mail of a batch on its way through `receive_many`."""

    payload: dict[str, object]
    parsed: ParsedMail | None
    parse_error: str
    provider_id: str
    event: InboundEvent | None = None
    first_delivery: bool = True
    same_as: _Mail | None = None  # an earlier mail of the batch with the same id
    outcome: RuleOutcome | None = None
    receipt: Receipt | None = None


def receive(channel: Channel, raw: bytes, *, source: str = "") -> Receipt:
    """Take one mail in (a batch of one, see `receive_many`). Never raises for bad mail."""
    return receive_many(channel, [(raw, source)])[0]


def receive_many(channel: Channel, mails: Sequence[tuple[bytes, str]]) -> list[Receipt]:
    """Take a batch of (raw mail, source) in; one receipt per mail, in order.

    Each raw `.eml` is stored first. Then one transaction for the whole batch: the inbound
    event rows (one insert), the processing rules (read once), the ticket entries
    (`ingest_many`, each mail in its own savepoint) and the events' outcomes (one update).
    The caller marks the mails seen (or deletes them) only after this returns, i.e. after
    the commit; if the transaction fails, nothing of the batch is kept and the mails stay
    unseen for the next poll. Idempotent by Message-ID (a hash when missing): a second
    delivery, in this batch or a later one, is recorded as duplicate and adds nothing. A bad
    mail ends quarantined with its reason and never keeps the others out."""
    if not mails:
        return []
    cfg = EmailSettings.of(channel)
    return _commit(channel, cfg, _Started(channel, cfg, mails))


class Intake[K]:
    """Mails taken in by batches as `receive_many` does, each batch begun (raws written and
    parsed) before the batch before it is committed. `committed(entries)` is called after
    each batch's commit, in order, with (key, receipt) per mail added, the receipt None
    for a key added without a mail (gone from the server). If the intake fails, the
    batches not yet committed stay unseen."""

    def __init__(self, channel: Channel,
                 committed: Callable[[list[tuple[K, Receipt | None]]], None]) -> None:
        self.channel, self.cfg, self._committed = channel, EmailSettings.of(channel), committed
        self._keys: list[tuple[K, bool]] = []
        self._mails: list[tuple[bytes, str]] = []
        self._size = 0
        self._begun: tuple[list[tuple[K, bool]], _Started | None] | None = None

    def add(self, key: K, raw: bytes | None, source: str = "") -> None:
        self._keys.append((key, raw is not None))
        if raw is not None:
            self._mails.append((raw, source))
            self._size += len(raw)
        if len(self._mails) >= BATCH_MAILS or self._size >= BATCH_BYTES:
            self._next_batch()

    def finish(self) -> None:
        """Commit what was added."""
        self._next_batch()
        self._commit_begun()

    def _next_batch(self) -> None:
        if not self._keys:
            return
        started = _Started(self.channel, self.cfg, self._mails) if self._mails else None
        keys, self._keys, self._mails, self._size = self._keys, [], [], 0
        self._commit_begun()
        self._begun = (keys, started)

    def _commit_begun(self) -> None:
        if self._begun is None:
            return
        keys, started = self._begun
        self._begun = None
        receipts = iter(_commit(self.channel, self.cfg, started) if started else [])
        self._committed([(key, next(receipts) if has_mail else None)
                         for key, has_mail in keys])


def _commit(channel: Channel, cfg: EmailSettings, started: _Started) -> list[Receipt]:
    """The batch's transaction (see `receive_many`), taken again on a lock conflict."""
    prepared = started.prepared()
    mails = started.mails
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        batch = [replace(m, payload=dict(m.payload)) for m in prepared]
        # On the last chance of a single mail a conflict is quarantined like any failure
        # (shown as temporary, to process again).
        retry = attempt < BATCH_ATTEMPTS or len(mails) > 1
        try:
            with transaction.atomic():
                _attach_events(channel, batch)
                ingestable = _triage(channel, batch)
                _ingest(channel, cfg, ingestable, retry=retry)
                pipeline.save_outcomes(
                    [m.event for m in batch if m.event is not None and m.receipt is None])
        except DatabaseError as exc:
            if not transient(exc):
                raise
            # Another transaction (a poller of another mailbox of the organisation) held
            # what this batch needed: the whole batch again, never a mail quarantined.
            logger.info("e-mail batch on channel %s: %s, again", channel.pk, type(exc).__name__)
            if attempt == BATCH_ATTEMPTS and len(mails) > 1:
                # Still in the way: one mail per transaction, each holding few locks.
                return [receive_many(channel, [mail])[0] for mail in mails]
            if attempt == BATCH_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)  # the winner is committing; it holds its locks till then
            continue
        break
    return [_receipt_of(m) for m in batch]


def transient(exc: BaseException) -> bool:
    """A lock conflict with another transaction: the same batch may well pass again."""
    return getattr(exc.__cause__, "sqlstate", None) in _TRANSIENT_SQLSTATES


class _Started:
    """A batch begun: its mails stored and parsed, outside any transaction."""

    def __init__(self, channel: Channel, cfg: EmailSettings,
                 mails: Sequence[tuple[bytes, str]]) -> None:
        self.mails = mails
        raws = [raw for raw, _source in mails]
        # A storage failure raises: nothing of the batch is taken in, the mails stay unseen.
        self.stored = raw_store.store_batch(channel, raws)
        self.parsed = [parse_or_reason(raw, cfg.address) for raw in raws]

    def prepared(self) -> list[_Mail]:
        return [_prepare(raw, source, stored, result) for stored, (raw, source), result
                in zip(self.stored, self.mails, self.parsed, strict=True)]


def _prepare(raw: bytes, source: str, stored: raw_store.Stored,
             result: ParsedMail | str) -> _Mail:
    payload = {**raw_store.payload_of(stored), "size": len(raw), "source": source}
    parsed, parse_error = (None, result) if isinstance(result, str) else (result, "")
    provider_id = parsed.message_id if parsed else "sha256:" + hashlib.sha256(raw).hexdigest()
    if parsed is not None and parsed.cids:  # the timeline shows inline images through this map
        payload["cids"] = parsed.cids
    return _Mail(payload, parsed, parse_error, provider_id[:255])


def _attach_events(channel: Channel, batch: list[_Mail]) -> None:
    """Find each mail's inbound event (a redelivery) or prepare a new one; a mail repeating
    an earlier one of the same batch points at it."""
    existing = {e.provider_id: e for e in InboundEvent.objects.filter(
        channel=channel, provider_id__in={m.provider_id for m in batch})}
    first: dict[str, _Mail] = {}
    for mail in batch:
        if mail.provider_id in first:
            mail.same_as = first[mail.provider_id]
            continue
        first[mail.provider_id] = mail
        event = existing.get(mail.provider_id)
        if event is None:
            mail.event = pipeline.new_event(channel, mail.provider_id, mail.payload)
        elif event.status != InboundStatus.RECEIVED:  # taken in before: nothing to do
            mail.event, mail.first_delivery = event, False
            mail.receipt = Receipt(InboundStatus.DUPLICATE, event.pk, event.message_id)
        else:  # stored before but not processed (a reprocess, an interrupted run)
            mail.event, mail.first_delivery = event, False


def _insert_events(channel: Channel, batch: list[_Mail]) -> None:
    new = [m for m in batch if m.event is not None and m.event.pk is None]
    if not new:
        return
    try:
        with transaction.atomic():  # a savepoint: a conflict leaves the transaction usable
            bulk_insert([m.event for m in new if m.event is not None])
    except IntegrityError:
        # Another receive (a reprocess) stored one of them meanwhile: one at a time.
        for mail in new:
            mail.event, mail.first_delivery = pipeline.store(channel, mail.provider_id,
                                                             mail.payload)
            if not mail.first_delivery and mail.event.status != InboundStatus.RECEIVED:
                event = mail.event
                mail.receipt = Receipt(InboundStatus.DUPLICATE, event.pk, event.message_id)


def _triage(channel: Channel, batch: list[_Mail]) -> list[_Mail]:
    """Decide what happens to each mail short of ingesting it (unreadable, our own loop,
    ignored by a rule), insert the new events, and return the mails to ingest."""
    rules: list[ProcessingRule] | None = None
    for mail in batch:
        parsed = mail.parsed
        if mail.same_as is not None or mail.receipt is not None or parsed is None:
            continue
        if parsed.our_loop:
            continue
        if rules is None:
            rules = active_rules(channel)  # once per batch
        mail.outcome = evaluate(channel, parsed, rules)
        rule = mail.outcome.no_auto_reply
        if rule is not None and not parsed.no_auto_reply:
            parsed.no_auto_reply = f"rule {rule.pk}"
        if parsed.no_auto_reply:  # read by the notifications sent once the ticket committed
            mail.payload["no_auto_reply"] = parsed.no_auto_reply
    _insert_events(channel, batch)  # with the payloads complete: no second write
    ingestable = []
    for mail in batch:
        parsed, event = mail.parsed, mail.event
        if mail.same_as is not None or mail.receipt is not None or event is None:
            continue
        if not mail.first_delivery and (mail.payload.get("cids")
                                        or mail.payload.get("no_auto_reply")):
            InboundEvent.objects.filter(pk=event.pk).update(payload=mail.payload)
        if parsed is None:
            _quarantine(event, mail.parse_error)
        elif parsed.our_loop:
            _finish(event, InboundStatus.PROCESSED, None, "our own mail: not taken in")
        else:
            if parsed.report is not None:
                try:
                    with transaction.atomic():
                        _mark_bounced(channel, parsed)
                except Exception as exc:  # the DSN itself is still taken in
                    logger.warning("e-mail bounce on channel %s not recorded: %s", channel.pk,
                                   reason(exc))
            ignore = mail.outcome.ignore if mail.outcome is not None else None
            if ignore is not None:
                _finish(event, InboundStatus.PROCESSED, None,
                        f"ignored by rule {ignore.pk}: {ignore.name}")
            else:
                ingestable.append(mail)
    return ingestable


def _ingest(channel: Channel, cfg: EmailSettings, mails: list[_Mail], *,
            retry: bool) -> None:
    """Ingest in order, in runs of equal `first_delivery` (a redelivered event must go
    through ingest's dedupe lookup); route the tickets the mails opened; ask for the
    acknowledgement a ticket opened by an auto-reply still owes (`on_mails_joined`)."""
    opened: set[int] = set()
    joined: set[int] = set()
    start = 0
    while start < len(mails):
        end = start
        while end < len(mails) and mails[end].first_delivery == mails[start].first_delivery:
            end += 1
        run, inbounds = [], []
        for mail in mails[start:end]:
            assert mail.parsed is not None
            try:
                inbounds.append(to_inbound(mail.parsed, channel.pk, own_address=cfg.address,
                                           reopen_closed=cfg.reopen_closed))
            except Exception as exc:
                _record(channel, mail, exc, retry=retry)
                continue
            run.append(mail)
        results = _ingest_run(channel, inbounds, first_delivery=mails[start].first_delivery,
                              retry=retry)
        for mail, result in zip(run, results, strict=True):
            _record(channel, mail, result, retry=retry)
            if isinstance(result, IngestResult) and not result.duplicate:
                if result.created_ticket:
                    opened.add(result.ticket.pk)
                elif mail.parsed is not None and not mail.parsed.no_auto_reply:
                    joined.add(result.ticket.pk)
        start = end
    # Before the batch's events are marked: they do not count as mails answered before.
    on_mails_joined(channel.pk, channel.organization_id, joined - opened)


def _ingest_run(channel: Channel, inbounds: list[InboundMessage], *, first_delivery: bool,
                retry: bool) -> list[IngestResult | Exception]:
    """`ingest_many` reports each message's failure on its own; should it fail as a whole
    all the same, the messages go one by one, so one poison mail can never hold a mailbox's
    batch back for ever."""
    try:
        with transaction.atomic():
            return ingest_many(channel, inbounds, first_delivery=first_delivery)
    except Exception as exc:
        if retry and transient(exc):
            raise  # the whole batch again (receive_many)
        logger.warning("e-mail batch on channel %s taken in one by one: %s", channel.pk,
                       reason(exc))
    results: list[IngestResult | Exception] = []
    for inbound in inbounds:
        try:
            with transaction.atomic():
                results.extend(ingest_many(channel, [inbound], first_delivery=first_delivery))
        except Exception as exc:
            results.append(exc)
    return results


def _record(channel: Channel, mail: _Mail, result: IngestResult | Exception, *,
            retry: bool) -> None:
    event = mail.event
    assert event is not None
    if isinstance(result, Exception):
        if retry and transient(result):
            raise result  # the whole batch again (receive_many)
        logger.warning("e-mail %s on channel %s quarantined: %s", event.pk, channel.pk,
                       type(result).__name__)
        pipeline.quarantine(event, result, save=False)
        return
    outcome = mail.outcome
    if result.created_ticket and outcome is not None and outcome.matched:
        try:
            with transaction.atomic():
                route(result.ticket, outcome)
        except TicketError as exc:  # a stale rule (e.g. bad priority) never loses the mail
            logger.warning("e-mail rules on channel %s: %s", channel.pk, exc.message)
    status = InboundStatus.DUPLICATE if result.duplicate else InboundStatus.PROCESSED
    _finish(event, status, result.message.pk, "")


def _receipt_of(mail: _Mail) -> Receipt:
    if mail.same_as is not None:  # the second copy of a mail in the same batch
        first = _receipt_of(mail.same_as)
        return Receipt(InboundStatus.DUPLICATE, first.event_id, first.message_id)
    if mail.receipt is not None:
        return mail.receipt
    event = mail.event
    assert event is not None
    return Receipt(event.status, event.pk, event.message_id, event.error)


def process(channel: Channel, events: list[InboundEvent]) -> None:
    """Take stored mails in again from their `.eml` (an admin's "process again", after a
    fix or a passing failure); the outcome replaces each event's status."""
    for event in events:
        raw = raw_store.read(event.organization_id, event.payload)
        if raw is None:
            pipeline.quarantine(event, "the stored .eml is missing")
            continue
        receipt = receive(channel, raw, source=str(event.payload.get("source") or ""))
        if receipt.event_id != event.pk:
            # The mail now parses and got its own event (keyed by its Message-ID).
            pipeline.finish(event, InboundStatus.DUPLICATE, message_id=receipt.message_id,
                            note=f"processed again as event {receipt.event_id}")


def _quarantine(event: InboundEvent, why: str) -> None:
    pipeline.quarantine(event, why, save=False)


def _finish(event: InboundEvent, status: str, message_id: int | None, note: str) -> None:
    """Set the outcome on the event; `receive_many` writes all of a batch's in one update."""
    pipeline.finish(event, status, message_id=message_id, note=note, save=False)


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
