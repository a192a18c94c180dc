"""Instagram Direct and Facebook Messenger on the Messenger Platform: a page connected with
Facebook Login (`consent`), a signed webhook (`views`, `receive`), text and files out
within the messaging window (`outbound`). One code for both; `platform` tells them apart."""

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
from atende.channels.reasons import Unreadable
from atende.connectors.meta_messaging import outbound, profiles, receive
from atende.connectors.meta_messaging.client import download
from atende.connectors.meta_messaging.inbound import to_inbound


class MetaMessagingConnector(Connector):
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.TEXT, Capability.ATTACHMENTS, Capability.DELIVERY_STATUS})

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        payload = receive.stored_payload(event)
        try:
            message = to_inbound(channel, payload, download)
        except (KeyError, TypeError, AttributeError) as exc:
            raise Unreadable(str(exc)) from exc
        return profiles.named(channel, message)

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        receive.process_stored(channel, events)

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        return outbound.send(channel, message)

    def test_connection(self, channel: Channel) -> TestResult:
        return outbound.check_connection(channel)


class InstagramConnector(MetaMessagingConnector):
    kind: ClassVar[str] = "instagram"
    settings_screen: ClassVar[str] = (
        "atende.workspace.settings.channel_meta.InstagramChannelScreen")


class MessengerConnector(MetaMessagingConnector):
    kind: ClassVar[str] = "messenger"
    settings_screen: ClassVar[str] = (
        "atende.workspace.settings.channel_meta.MessengerChannelScreen")
