"""The customer portal as a channel: tickets opened and comments written on `/p/<slug>/`
enter through the kit like any provider's messages."""

from __future__ import annotations

from typing import ClassVar

from django.db import transaction

from atende.channels.connector import (
    Capability,
    Connector,
    InboundMessage,
    OutboundMessage,
    SendResult,
    TestResult,
)
from atende.channels.models import Channel, InboundEvent
from atende.connectors.portal import inbound, outbound


class PortalConnector(Connector):
    kind: ClassVar[str] = "portal"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.TEXT, Capability.ATTACHMENTS, Capability.SUBJECT})
    settings_screen: ClassVar[str] = "atende.workspace.settings.channel_portal.PortalChannelScreen"

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        return inbound.parse(channel, event)

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        with transaction.atomic():
            inbound.ingest_submissions(channel, events)

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        return outbound.send(channel, message)

    def test_connection(self, channel: Channel) -> TestResult:
        return outbound.check_connection(channel)
