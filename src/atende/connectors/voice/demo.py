"""The demo organisation's phone channel: a number, business hours and an IVR with two
services, for `atende demo` (a call can then be placed with `scripts/voice-call-demo`)."""

from __future__ import annotations

import logging

from atende.automation.models import BusinessCalendar
from atende.channels.models import Channel, ChannelKind
from atende.connectors.voice.audio import AudioError
from atende.connectors.voice.channels import IvrSettings, configure_ivr, create_voice_channel
from atende.tenancy.models import Organization, Service

logger = logging.getLogger(__name__)
DEMO_NUMBER = "+55 11 3030-0000"


def ensure_demo_voice(org: Organization, services: list[Service]) -> Channel:
    """Idempotent: the channel and its IVR are created once."""
    channel = Channel.objects.for_org(org).filter(kind=ChannelKind.VOICE).first()
    if channel is not None:
        return channel
    calendar, _ = BusinessCalendar.objects.get_or_create(
        organization=org, name="Central telefônica",
        defaults={"timezone": "America/Sao_Paulo",
                  "hours": {str(d): ["08:00", "18:00"] for d in range(5)}})
    channel = create_voice_channel(org, "Central telefônica", [DEMO_NUMBER],
                                   service=services[0], calendar=calendar)
    try:
        configure_ivr(channel, IvrSettings(
            name="URA principal",
            welcome="Olá! Bem-vindo à central de atendimento da Atende Demo.",
            closed="Nosso atendimento funciona de segunda a sexta, das 8 às 18 horas. "
                   "Deixe sua mensagem após o sinal.",
            unanswered="Não recebemos nenhuma opção. Deixe sua mensagem após o sinal."),
            services)
    except AudioError as exc:  # espeak-ng or sox missing: the IVR answers without prompts
        logger.warning("demo IVR prompts not spoken: %s", exc)
    return channel
