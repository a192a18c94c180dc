"""A call as the customer's entry on a ticket: the kit's `InboundMessage`, built from the
stored `Call` (the raw event only names it). The caller is matched by number to a contact
who has it as a phone or a WhatsApp identity, the Brazilian ninth digit normalised."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.models import Channel, InboundEvent
from atende.channels.reasons import Unreadable
from atende.connectors.voice.models import Call, CallStatus
from atende.contacts.models import ContactIdentity, IdentityKind
from atende.contacts.phones import canonical_number


def event_id(call: Call) -> str:
    return f"call:{call.call_id}"


def caller(call: Call) -> tuple[ContactRef, tuple[ContactRef, ...]]:
    """Who called: a contact already known by this number (phone or WhatsApp), else a new
    one by phone; an anonymous caller is a contact of this call alone."""
    try:
        number = canonical_number(call.from_number)
    except ValidationError:
        return ContactRef(IdentityKind.EXTERNAL, f"call:{call.channel_id}:{call.call_id}",
                          _("Unknown caller")), ()
    known = ContactIdentity.objects.for_org(call.organization_id).filter(
        kind__in=(IdentityKind.PHONE, IdentityKind.WHATSAPP), value=number,
    ).values_list("kind", flat=True)
    phone = ContactRef(IdentityKind.PHONE, number, number)
    if IdentityKind.PHONE not in known and IdentityKind.WHATSAPP in known:
        return ContactRef(IdentityKind.WHATSAPP, number, number), (phone,)
    return phone, ()


def describe(call: Call) -> tuple[str, str]:
    """(subject, text) of the call's entry."""
    number = call.from_number or _("unknown number")
    service = call.service.name if call.service else ""
    if call.status == CallStatus.VOICEMAIL:
        return (_("Voicemail"),
                _("Voicemail from %(number)s (%(seconds)s s).") % {
                    "number": number, "seconds": call.voicemail_seconds})
    if call.status == CallStatus.MISSED:
        return _("Missed call"), _("Missed call from %(number)s.") % {"number": number}
    if service:
        return (_("Call from %(number)s") % {"number": number},
                _("Call from %(number)s to the service %(service)s.") % {
                    "number": number, "service": service})
    return _("Call from %(number)s") % {"number": number}, _("Call from %(number)s.") % {
        "number": number}


def voicemail_file(name: str) -> Path | None:
    """A recording the PBX left in the voice folder's `incoming/`, by the name the event
    holds (never a path outside it)."""
    if not name or not re.fullmatch(r"[A-Za-z0-9._-]{1,120}\.wav", name):
        return None
    path = Path(settings.VOICE_DIR) / "incoming" / name
    return path if path.is_file() else None


def to_inbound(channel: Channel, event: InboundEvent) -> InboundMessage:
    payload = event.payload if isinstance(event.payload, dict) else {}
    call = Call.objects.select_related("service").filter(
        channel=channel, call_id=str(payload.get("call_id") or "")).first()
    if call is None:
        raise Unreadable("no stored call with this id")
    contact, extra = caller(call)
    subject, text = describe(call)
    attachments: tuple[InboundAttachment, ...] = ()
    recording = voicemail_file(str(payload.get("voicemail") or ""))
    if recording is not None:
        voicemail = recording.read_bytes()
        attachments = (InboundAttachment(f"voicemail-{call.pk}.wav", "audio/wav", voicemail),)
    return InboundMessage(
        channel_id=channel.pk, external_id=event_id(call), contact=contact,
        extra_identities=extra, subject=subject, text=text, attachments=attachments,
        sent_at=call.started_at, metadata={"call": call.pk})
