"""WhatsApp through 360dialog (Cloud API envelope or legacy On-Premise): webhooks in
(`views`, `webhook_asgi`, `receive`), messages and templates out (`outbound`)."""

from __future__ import annotations

from typing import ClassVar

from atende.channels.connector import (
    Capability,
    Connector,
    CsatInvitation,
    InboundMessage,
    OutboundMessage,
    SendResult,
    TestResult,
)
from atende.channels.models import Channel, InboundEvent
from atende.connectors.whatsapp import outbound, receive


class WhatsAppConnector(Connector):
    kind: ClassVar[str] = "whatsapp"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.TEXT, Capability.ATTACHMENTS, Capability.DELIVERY_STATUS,
         Capability.TEMPLATES})
    settings_screen: ClassVar[str] = (
        "atende.workspace.settings.channel_whatsapp.WhatsAppChannelScreen")

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        return receive.parse(channel, event)

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        receive.process_stored(channel, events)

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        return outbound.send(channel, message)

    def test_connection(self, channel: Channel) -> TestResult:
        return outbound.check_connection(channel)

    def invite_csat(self, channel: Channel, invitation: CsatInvitation) -> SendResult | None:
        from atende.connectors.whatsapp import csat

        return csat.invite(channel, invitation)

    def parse_csat_reply(self, channel: Channel, message: InboundMessage) -> int | None:
        from atende.connectors.whatsapp import csat

        return csat.score_of(message)
