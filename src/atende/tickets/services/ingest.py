"""The one inbound pipeline every channel feeds: `ingest(InboundMessage)`, and
`ingest_many` for several messages of one channel. Both go through the set-based run of
`ingest_batch`, where the rules are (a single message is a run of one)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import nh3
from django.db import IntegrityError, transaction
from django.db.models import Q

from atende.channels.connector import InboundMessage
from atende.channels.models import Channel
from atende.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    ticket: Ticket
    message: Message
    created_ticket: bool = False
    duplicate: bool = False
    reopened: bool = False


# `cid:` stays: inline images of an e-mail point at its parts (resolved when shown).
URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}


def sanitize_html(html: str) -> str:
    return nh3.clean(html, url_schemes=URL_SCHEMES) if html else ""


def _existing(channel: Channel, external_id: str) -> Message | None:
    if not external_id:
        return None
    # The redundant `<> ''` lets SQLite use the partial unique index (channel, external_id);
    # without it the lookup scans every message of the channel.
    found = Message.objects.filter(~Q(external_id=""), channel=channel, external_id=external_id)
    if not found.exists():  # the common case: skip building the joined query
        return None
    return found.select_related("ticket").first()


def ingest(inbound: InboundMessage, channel: Channel | None = None, *,
           first_delivery: bool = False) -> IngestResult:
    """Turn one normalised inbound message into a ticket entry.

    Idempotent on (channel, external_id): a redelivery returns the stored message with
    `duplicate=True`, also when two deliveries race. One transaction: contact, thread
    lookup, ticket, message, attachments, audit; events are sent on commit.
    Raises django ValidationError when the sender's identity is invalid.
    A caller that already holds the channel (a poller, freshly loaded) passes it to save
    re-reading it per message. `first_delivery`: the caller's own dedupe (an inbound event
    created in this transaction) says the message is new, so the lookup is skipped; a
    duplicate still ends as one, through the unique constraint.
    """
    from atende.tickets.services.ingest_batch import ingest_run

    if channel is None or channel.pk != inbound.channel_id:
        channel = Channel.objects.select_related("organization", "service").get(
            pk=inbound.channel_id)
    retries = 1
    while True:
        try:
            with transaction.atomic():
                result = ingest_run(channel, [inbound], first_delivery=first_delivery)[0]
                if isinstance(result, Exception):
                    raise result  # an invalid identity or file: nothing of it was written
                return result
        except IntegrityError:
            existing = _existing(channel, inbound.external_id)
            if existing is not None:  # a concurrent delivery of the same message won
                return IngestResult(existing.ticket, existing, duplicate=True)
            if not retries:
                raise
            # A concurrent insert of the same contact or identity won the unique constraint:
            # it is stored now, and the second run finds it.
            retries -= 1


def ingest_many(channel: Channel, inbounds: Sequence[InboundMessage], *,
                first_delivery: bool = False) -> list[IngestResult | Exception]:
    """Ingest several messages of one channel, in order, inside the caller's transaction.

    Each item ends as its IngestResult or as the exception that stopped it; a failed item is
    rolled back alone and never keeps the others from being stored. Same outcome as
    calling `ingest` for each message in turn.

    Consecutive messages of this channel (`ingest_batch.batchable`) are one run, with a
    constant number of statements; a message naming another channel is a run of one there
    (`ingest`). A run that fails unexpectedly (a concurrent insert of the same contact,
    say), or cannot be decided in bulk (`ingest_batch.OneByOne`), is redone as runs of
    one."""
    from atende.tickets.services import ingest_batch

    results: list[IngestResult | Exception] = []
    start = 0
    while start < len(inbounds):
        end = start
        while end < len(inbounds) and ingest_batch.batchable(inbounds[end], channel):
            end += 1
        if end == start:  # another channel's message: a run of one on that channel
            results.append(_ingest_one(channel, inbounds[start], first_delivery))
            start += 1
            continue
        run = inbounds[start:end]
        try:
            with transaction.atomic():
                results.extend(ingest_batch.ingest_run(channel, run,
                                                       first_delivery=first_delivery))
        except ingest_batch.OneByOne as why:
            logger.debug("ingest of %s messages on channel %s one by one: %s", len(run),
                         channel.pk, why)
            results.extend(_ingest_one(channel, inbound, first_delivery) for inbound in run)
        except Exception:  # e.g. a concurrent insert of the same contact: one by one
            logger.warning("set-based ingest of %s messages on channel %s failed; one by one",
                           len(run), channel.pk, exc_info=True)
            results.extend(_ingest_one(channel, inbound, first_delivery) for inbound in run)
        start = end
    return results


def _ingest_one(channel: Channel, inbound: InboundMessage,
                first_delivery: bool) -> IngestResult | Exception:
    try:  # `ingest` rolls back what it did itself
        return ingest(inbound, channel, first_delivery=first_delivery)
    except Exception as exc:  # reported to the caller, who quarantines that item
        return exc
