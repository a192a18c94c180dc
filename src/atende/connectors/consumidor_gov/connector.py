"""Consumidor.gov.br: complaints polled in the API's hours (`receive`), answers parked
until a window opens (`outbound`), the complaint's header and status (`complaints`)."""

from __future__ import annotations

from typing import ClassVar

from atende.channels.connector import (
    Capability,
    Connector,
    InboundMessage,
    OutboundMessage,
    SendResult,
    TestResult,
)
from atende.channels.models import Channel, InboundEvent
from atende.connectors.consumidor_gov import complaints, inbound, outbound, receive


class ConsumidorGovConnector(Connector):
    kind: ClassVar[str] = "consumidor_gov"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TEXT})
    settings_screen: ClassVar[str] = (
        "atende.workspace.settings.channel_consumidor.ConsumidorChannelScreen")

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        return inbound.parse(channel, event)

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        receive.process_stored(channel, events)

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        return outbound.send(channel, message)

    def test_connection(self, channel: Channel) -> TestResult:
        return outbound.check_connection(channel)

    def reply_refusal(self, channel: Channel, ticket_id: int) -> str:
        if complaints.is_closed(complaints.of_ticket(ticket_id)):
            return outbound.closed_text()
        return ""
