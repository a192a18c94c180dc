"""The generic "Omni Channel" API connector: external systems post messages into a channel
(`views`) and receive the agents' answers on their webhook (`outbound`)."""

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
from atende.connectors.api import inbound, outbound
from atende.tickets.services.inbound_events import process_events


class ApiChannelConnector(Connector):
    kind: ClassVar[str] = "api"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.TEXT, Capability.HTML, Capability.ATTACHMENTS})
    settings_screen: ClassVar[str] = "atende.workspace.settings.channel_api.ApiChannelScreen"

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        return inbound.parse(channel, event)

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        process_events(self, channel, events)

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        return outbound.send(channel, message)

    def test_connection(self, channel: Channel) -> TestResult:
        return outbound.check_connection(channel)

    def invite_csat(self, channel: Channel, invitation: CsatInvitation) -> SendResult | None:
        return outbound.invite_csat(channel, invitation)
