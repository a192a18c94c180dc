"""The website chat: a widget on the organisation's site (`views`, `assets/v1.js`); the
visitor's messages come in through the kit (`inbound`), and an agent's answers reach
the visitor through their live stream (`stream`), so sending is only recording it."""

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
from atende.connectors.webchat import inbound
from atende.tickets.services.inbound_events import process_events


class WebchatConnector(Connector):
    kind: ClassVar[str] = "webchat"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.TEXT, Capability.ATTACHMENTS})
    settings_screen: ClassVar[str] = (
        "atende.workspace.settings.channel_webchat.WebchatChannelScreen")

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        return inbound.parse(channel, event)

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        process_events(self, channel, events)

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        # The message is already in the outbox the visitor's stream reads (and in their
        # history on the next visit): there is no provider to call.
        return SendResult(ok=True, external_id=f"webchat:{message.message_id}")

    def test_connection(self, channel: Channel) -> TestResult:
        from django.utils.translation import gettext as _

        return TestResult(ok=channel.is_active, message=_(
            "The chat is on: the snippet shows it on your site.") if channel.is_active
            else _("The chat is switched off."))
