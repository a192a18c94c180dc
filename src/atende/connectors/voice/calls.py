"""What happens to a call in the database, whichever adapter carries it: the call row from
the first ring (`open_call`), its progress (`save_progress`), and its entry on a ticket
through the kit (`record_on_ticket`: the raw event names the call, the connector's `parse`
builds the message). Every function here is idempotent: an adapter may report a step twice
or after the call ended, and the record only moves forward."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from atende.automation.business_hours import is_open
from atende.channels import pipeline
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.registry import get_connector
from atende.connectors.voice import ivr
from atende.connectors.voice.inbound import event_id
from atende.connectors.voice.models import Call, CallStatus, Ivr, PhoneNumber, Prompt
from atende.connectors.voice.prompts import spool_name, write_spool
from atende.contacts.identities import normalize_phone
from atende.contacts.phones import canonical_number
from atende.tenancy.models import Service
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.inbound_events import Outcome

logger = logging.getLogger(__name__)
OUTCOME_STATUS = {ivr.Outcome.ROUTED: CallStatus.ROUTED, ivr.Outcome.VOICEMAIL:
                  CallStatus.VOICEMAIL, ivr.Outcome.MISSED: CallStatus.MISSED}
# A status never goes back: a late "in progress" does not undo "missed".
RANK = {CallStatus.IN_PROGRESS: 0, CallStatus.ROUTED: 1, CallStatus.VOICEMAIL: 2,
        CallStatus.MISSED: 2, CallStatus.COMPLETED: 3}


@dataclass(frozen=True)
class Answering:
    """What an adapter needs to answer a call: the channel, the IVR's plan and where each
    prompt is for the PBX (sound names without extension, under the voice folder)."""

    channel: Channel
    plan: ivr.IvrPlan
    sounds: dict[str, str]


def number_key(raw: str, region: str = "BR") -> str:
    """A number as the PBX gave it (E.164, or national: "11987654321", "011…") in its
    canonical form; empty for what is no number (an extension, "anonymous")."""
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    try:
        if not text.startswith("+") and len(digits) <= 12:
            text = normalize_phone(text, region)
        return canonical_number(text)
    except ValidationError:
        return ""


def channel_for(dialled: str) -> Channel | None:
    """The active voice channel that owns the number called."""
    number = number_key(dialled)
    if not number:
        return None
    found = PhoneNumber.objects.select_related(
        "channel", "channel__organization", "channel__business_calendar").filter(
        e164=number, inbound=True, channel__is_active=True).first()
    return found.channel if found else None


def answering_for(dialled: str) -> Answering | None:
    """The channel of the number called and its IVR (hours decided per call:
    `for_this_call`); None when no channel has the number."""
    channel = channel_for(dialled)
    return plan_for(channel) if channel is not None else None


def for_this_call(answering: Answering, at: datetime | None = None) -> Answering:
    """The plan with the business hours decided now (the calendar is already loaded)."""
    calendar = answering.channel.business_calendar
    within = True if calendar is None else is_open(calendar, at or timezone.now())
    return replace(answering, plan=replace(answering.plan, within_hours=within))


def plan_for(channel: Channel, at: datetime | None = None) -> Answering:
    """The IVR of the channel as one call's plan (its hours decided now)."""
    calendar = channel.business_calendar
    within = True if calendar is None else is_open(calendar, at or timezone.now())
    menu = Ivr.objects.filter(channel=channel).first()
    if menu is None:  # a channel without an IVR: straight to its own service
        only: tuple[ivr.MenuOption, ...] = (
            (ivr.MenuOption("1", channel.service_id, ""),) if channel.service_id else ())
        return Answering(channel, ivr.IvrPlan(within, only, welcome="", menu="", closed="",
                                              unanswered="", repeats=0), {})
    options = tuple(ivr.MenuOption(str(o.position), o.service_id, o.spoken)
                    for o in menu.options.select_related("service").filter(
                        position__range=(1, 9)))
    sounds: dict[str, str] = {}
    for prompt in Prompt.objects.filter(ivr=menu).exclude(audio=""):
        write_spool(prompt)
        sounds[prompt.role] = spool_name(prompt)
    plan = ivr.IvrPlan(
        within, options,
        welcome="welcome" if "welcome" in sounds else "",
        menu="menu" if "menu" in sounds else "",
        closed="closed" if "closed" in sounds else "",
        unanswered="unanswered" if "unanswered" in sounds else "",
        timeout_seconds=max(1, menu.timeout_seconds), repeats=menu.repeats,
        voicemail=menu.voicemail, voicemail_seconds=max(5, menu.voicemail_seconds))
    return Answering(channel, plan, sounds)


def open_call(channel: Channel, adapter: str, call_id: str, from_number: str,
              to_number: str, within_hours: bool = True) -> Call:
    """The call's row, written before the caller hears anything; a replayed start finds
    the stored one."""
    call, _new = Call.objects.get_or_create(
        channel=channel, call_id=call_id[:120],
        defaults={"organization_id": channel.organization_id, "adapter": adapter,
                  "from_number": number_key(from_number) or from_number[:40],
                  "to_number": number_key(to_number) or to_number[:40],
                  "within_hours": within_hours})
    return call


def save_progress(call: Call, state: ivr.CallState) -> Call:
    """The steps so far, the service chosen, and the outcome once known. Ignores a state
    older than the stored one (a path shorter than what is stored)."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if len(state.path) >= len(call.ivr_path):
            call.ivr_path = list(state.path)
        if state.service_id and not call.service_id:
            call.service = Service.objects.for_org(call.organization_id).filter(
                pk=state.service_id).first()
        status = OUTCOME_STATUS.get(state.outcome, CallStatus.IN_PROGRESS)
        if RANK[status] > RANK[CallStatus(call.status)]:
            call.status = status
        call.voicemail_seconds = max(call.voicemail_seconds, int(state.voicemail_seconds))
        if state.ended and call.ended_at is None:
            call.ended_at = timezone.now()
            if call.status == CallStatus.ROUTED:
                call.status = CallStatus.COMPLETED
        call.save()
    return call


def record_on_ticket(call: Call, voicemail: Path | None = None) -> Call:
    """The call's entry on a ticket, once (keyed by the call id): a routed call on the
    service chosen, a voicemail with its audio, a missed call as "Missed call". A failure
    leaves the event quarantined in the channel log, to be processed again."""
    payload: dict[str, object] = {"call_id": call.call_id}
    if voicemail is not None:
        payload["voicemail"] = voicemail.name
    channel = call.channel
    with transaction.atomic():
        event, _new = pipeline.store(channel, event_id(call), payload)
    if event.status != InboundStatus.RECEIVED:
        return Call.objects.select_related("channel", "ticket").get(pk=call.pk)
    get_connector("voice").process(channel, [event])
    return Call.objects.select_related("channel", "ticket").get(pk=call.pk)


def link_calls(channel: Channel, outcomes: list[tuple[InboundEvent, Outcome]]) -> None:
    """Each ingested call keeps its ticket and entry; a new ticket goes to the service the
    caller chose. Part of processing, so "process again" does it too."""
    for event, result in outcomes:
        if isinstance(result, Exception) or result.duplicate:
            continue
        call_id = str((event.payload or {}).get("call_id") or "")
        with transaction.atomic():
            call = Call.objects.select_related("service").filter(
                channel=channel, call_id=call_id).first()
            if call is None:
                continue
            Call.objects.filter(pk=call.pk).update(ticket=result.ticket, message=result.message)
            if result.created_ticket and call.service is not None \
                    and result.ticket.service_id != call.service.pk:
                update_ticket(result.ticket, Actor(label=f"channel:{channel.pk}"),
                              service=call.service)


STALE_AFTER = timedelta(hours=4)


def finish_stale_calls(now: datetime | None = None) -> int:
    """Calls still open long after any call would have ended (the FastAGI server stopped
    mid-call) are ended as they stood: unanswered ones become missed-call tickets, a routed
    one keeps its ticket. Returns how many were ended."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    ended = 0
    for call in Call.objects.filter(ended_at__isnull=True, started_at__lt=cutoff).select_related(
            "channel").order_by("pk")[:500]:
        outcome = ivr.Outcome.ROUTED if call.status == CallStatus.ROUTED else ivr.Outcome.MISSED
        state = ivr.CallState(ivr.IvrPlan(call.within_hours, ()), phase=ivr.Phase.ENDED,
                              outcome=outcome, path=(*call.ivr_path, "lost"))
        call = save_progress(call, state)
        if call.ticket_id is None:
            record_on_ticket(call)
        ended += 1
    return ended
