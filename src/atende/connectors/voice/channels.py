"""Setting up a voice channel: its numbers (E.164, one organisation each) and its IVR —
options in menu order and the messages, spoken again when their text, the voice or the
menu changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from atende.automation.models import BusinessCalendar
from atende.channels.models import Channel, ChannelKind
from atende.connectors.voice import prompts
from atende.connectors.voice.models import Ivr, IvrOption, PhoneNumber, PromptRole
from atende.contacts.phones import validated_number
from atende.tenancy.models import Organization, Service

MAX_OPTIONS = 9


@dataclass(frozen=True)
class IvrSettings:
    name: str
    welcome: str = ""
    closed: str = ""
    unanswered: str = ""
    voice: str = "pt-br"
    speed: int = 150
    timeout_seconds: int = 5
    repeats: int = 2
    voicemail: bool = True
    voicemail_seconds: int = 60


def set_numbers(channel: Channel, numbers: Sequence[str]) -> list[str]:
    """The channel's numbers, as typed (country and area code); raises ValidationError for
    an invalid one or one another channel holds."""
    cleaned = list(dict.fromkeys(validated_number(n) for n in numbers if n.strip()))
    taken = PhoneNumber.objects.filter(e164__in=cleaned).exclude(channel=channel)
    if taken.exists():
        raise ValidationError(_("The number %(number)s belongs to another channel.") % {
            "number": taken.first().e164})  # type: ignore[union-attr]
    with transaction.atomic():
        PhoneNumber.objects.filter(channel=channel).exclude(e164__in=cleaned).delete()
        for number in cleaned:
            PhoneNumber.objects.get_or_create(
                channel=channel, e164=number,
                defaults={"organization_id": channel.organization_id})
    return cleaned


def create_voice_channel(organization: Organization, name: str, numbers: Sequence[str],
                         *, service: Service | None = None,
                         calendar: BusinessCalendar | None = None) -> Channel:
    with transaction.atomic():
        channel = Channel.objects.create(
            organization=organization, kind=ChannelKind.VOICE, name=name, service=service,
            business_calendar=calendar)
        set_numbers(channel, numbers)
    return channel


def set_options(ivr: Ivr, services: Sequence[Service]) -> None:
    """The menu: key 1 for the first service, 2 for the second… (up to 9), then the menu
    prompt spoken again."""
    chosen = list(dict.fromkeys(services))[:MAX_OPTIONS]
    if any(s.organization_id != ivr.organization_id for s in chosen):
        raise ValidationError(_("Unknown service."))
    with transaction.atomic():
        IvrOption.objects.filter(ivr=ivr).delete()
        IvrOption.objects.bulk_create([
            IvrOption(organization_id=ivr.organization_id, ivr=ivr, position=n, service=s)
            for n, s in enumerate(chosen, start=1)])
        prompts.refresh_menu(ivr)


def configure_ivr(channel: Channel, options: IvrSettings,
                  services: Sequence[Service] | None = None) -> Ivr:
    """Create or update the channel's IVR; messages whose text changed (or all, when the
    voice or speed did) are spoken again. Raises AudioError when the voice fails."""
    with transaction.atomic():
        ivr = Ivr.objects.filter(channel=channel).first() or Ivr(
            organization_id=channel.organization_id, channel=channel)
        revoice = ivr.pk is not None and (ivr.voice, ivr.speed) != (options.voice,
                                                                     options.speed)
        ivr.name = options.name
        ivr.voice, ivr.speed = options.voice, max(80, min(260, options.speed))
        ivr.timeout_seconds = max(1, min(30, options.timeout_seconds))
        ivr.repeats = max(0, min(5, options.repeats))
        ivr.voicemail = options.voicemail
        ivr.voicemail_seconds = max(5, min(300, options.voicemail_seconds))
        ivr.save()
        if revoice:
            prompts.respeak(ivr)
        for role, text in ((PromptRole.WELCOME, options.welcome),
                           (PromptRole.CLOSED, options.closed),
                           (PromptRole.UNANSWERED, options.unanswered)):
            current = ivr.prompts.filter(role=role).first()
            if current is not None and current.source != "tts" and not text:
                continue  # an uploaded message stays until replaced
            prompts.speak_prompt(ivr, role, text)
        if services is not None:
            set_options(ivr, services)
    return ivr
