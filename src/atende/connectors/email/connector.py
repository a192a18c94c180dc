"""E-mail: mailboxes read over IMAP (with IDLE) or POP3 (`polling`, `watcher`, `receive`),
answers sent over SMTP (`outbound`), Microsoft 365 and Gmail through OAuth2 (`oauth`)."""

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
from atende.channels.reasons import Unreadable
from atende.connectors.email import outbound, raw_store, receive
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.inbound import read, to_inbound


class EmailConnector(Connector):
    kind: ClassVar[str] = "email"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.TEXT, Capability.HTML, Capability.ATTACHMENTS, Capability.SUBJECT})
    settings_screen: ClassVar[str] = "atende.workspace.settings.channel_email.EmailChannelScreen"

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        raw = raw_store.read(event.organization_id, event.payload)
        if raw is None:
            raise Unreadable("the stored .eml is missing")
        cfg = EmailSettings.of(channel)
        return to_inbound(read(raw, cfg.address), channel.pk, own_address=cfg.address,
                          reopen_closed=cfg.reopen_closed)

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        receive.process(channel, events)

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        return outbound.send(channel, message)

    def test_connection(self, channel: Channel) -> TestResult:
        return outbound.check_connection(channel)

    def invite_csat(self, channel: Channel, invitation: CsatInvitation) -> SendResult | None:
        from atende.connectors.email import csat

        return csat.invite(channel, invitation)
