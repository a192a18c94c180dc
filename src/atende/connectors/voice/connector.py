"""The phone: calls answered by the IVR (`ivr`) through a PBX adapter (FastAGI in
`agi_server`), each call recorded on a ticket through the kit (`calls`)."""

from __future__ import annotations

from typing import ClassVar

from django.utils import translation
from django.utils.translation import gettext as _

from atende.channels.connector import (
    Capability,
    Connector,
    InboundMessage,
    OutboundMessage,
    SendResult,
    TestResult,
)
from atende.channels.models import Channel, InboundEvent
from atende.connectors.voice import calls, inbound
from atende.tickets.services.inbound_events import process_events


class VoiceConnector(Connector):
    kind: ClassVar[str] = "voice"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ATTACHMENTS})
    settings_screen: ClassVar[str] = ""

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        return inbound.to_inbound(channel, event)

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        with translation.override(channel.organization.language):
            outcomes = process_events(self, channel, events)
        calls.link_calls(channel, outcomes)

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        # A phone call is answered by talking; a written reply has no way to the caller.
        return SendResult(False, error=_("A phone channel cannot send written messages."))

    def test_connection(self, channel: Channel) -> TestResult:
        return TestResult(True, _("Calls reach Atende through the PBX's dialplan."))
