"""The connector: what every channel kind implements, and the normalised messages that
cross the boundary between a provider and the ticket domain.

A connector talks to its provider and to `atende.tickets.services`; it never imports another
connector, and the ticket domain never imports a provider's SDK.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from atende.channels.models import Channel, InboundEvent


class Capability(enum.StrEnum):
    TEXT = "text"
    HTML = "html"
    ATTACHMENTS = "attachments"
    DELIVERY_STATUS = "delivery_status"  # the provider reports delivered/read
    TEMPLATES = "templates"
    SUBJECT = "subject"


@dataclass(frozen=True)
class ContactRef:
    """How the sender identifies themself on this channel (kind from IdentityKind)."""

    kind: str
    value: str
    name: str = ""


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMessage:
    """One customer message, in the shape every channel shares.

    `external_id` is the provider's id for this message (idempotency key). `thread_keys` are
    keys that may lead to an existing ticket on this channel (a conversation id, Message-IDs
    of the mail being answered), most specific first: the first that leads to a ticket
    wins. `thread_key` is the key this message itself leaves behind, tried last if not
    among them (a reply taken in before this message may have left it).
    """

    channel_id: int
    external_id: str
    contact: ContactRef
    text: str = ""
    html: str = ""
    subject: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    sent_at: datetime | None = None
    thread_keys: tuple[str, ...] = ()
    thread_key: str = ""
    extra_identities: tuple[ContactRef, ...] = ()
    metadata: dict[str, object] = field(default_factory=dict)
    # A ticket number the message names (e-mail subject token): tried after `thread_keys`.
    ticket_number: int | None = None
    # False: an answer to a closed ticket opens a new ticket linked to it instead of reopening.
    reopen_closed: bool = True


@dataclass(frozen=True)
class OutboundAttachment:
    filename: str
    content_type: str
    size: int
    url: str
    storage_name: str


@dataclass(frozen=True)
class OutboundMessage:
    """An agent's message on its way to the customer."""

    message_id: int
    organization_id: int
    ticket_id: int
    protocol: str
    subject: str
    text: str
    html: str
    author_name: str
    recipient: ContactRef | None
    attachments: tuple[OutboundAttachment, ...] = ()
    thread_keys: tuple[str, ...] = ()
    created_at: datetime | None = None


@dataclass(frozen=True)
class SendResult:
    """What the provider answered. `retryable` failures are tried again with backoff, not
    sooner than `retry_after` seconds when the provider said so (a 429's wait). `parked`:
    the channel cannot send now (Consumidor.gov.br's API hours) and holds the message,
    queued with no attempt counted, to send it itself; `error` says when."""

    ok: bool
    external_id: str = ""
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None
    parked: bool = False


@dataclass(frozen=True)
class CsatInvitation:
    """A satisfaction survey (CORE-14) on its way to the customer of a resolved ticket.

    `text` is the channel's wording in `language`, already filled; `url` is the signed link
    to the public rating page (any channel may offer it); `scores` pairs each score with
    its label in `language`, best first. A reply the connector recognises (a button, a
    digit) comes back through `Connector.parse_csat_reply`."""

    survey_id: int
    organization_id: int
    ticket_id: int
    protocol: str
    subject: str
    recipient: ContactRef | None
    language: str
    text: str
    url: str
    scores: tuple[tuple[int, str], ...]
    title: str = ""
    thread_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str
    step: str = ""


class Connector:
    """A channel provider: one subclass per channel kind, listed once in
    `registry.CONNECTORS`. It only parses, sends and configures; storing, deduplicating,
    quarantining and processing again are the kit's (`pipeline`)."""

    kind: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    # The settings screen that creates and edits channels of this kind (an import path, so
    # the kit never imports the workspace); empty: not configurable from the screens.
    settings_screen: ClassVar[str] = ""

    def parse(self, channel: Channel, event: InboundEvent) -> InboundMessage:
        """The stored raw event as the customer's message. Raises `reasons.Unreadable`
        when the event cannot be read; never stores anything."""
        raise NotImplementedError

    def process(self, channel: Channel, events: list[InboundEvent]) -> None:
        """Take stored events still to be processed through `parse` and ingest, and write
        each one's outcome (`pipeline.finish`). Never raises for a bad event."""
        raise NotImplementedError

    def send(self, channel: Channel, message: OutboundMessage) -> SendResult:
        raise NotImplementedError

    def test_connection(self, channel: Channel) -> TestResult:
        raise NotImplementedError

    def reply_refusal(self, channel: Channel, ticket_id: int) -> str:
        """Why nothing more can be sent on this ticket through the channel (the composer
        closes), or an empty string."""
        return ""
    # --- optional: the satisfaction survey (CORE-14) -------------------------------------
    # A channel that does not override these cannot invite; its customers still rate from
    # the portal or the signed link.

    def invite_csat(self, channel: Channel, invitation: CsatInvitation) -> SendResult | None:
        """Send the survey to the customer. None: this channel cannot (the default);
        otherwise what the provider answered (a `retryable` failure is tried again)."""
        return None

    def parse_csat_reply(self, channel: Channel, message: InboundMessage) -> int | None:
        """The score (1-5) a customer's message gives when it answers an invitation (a
        button, a digit), else None. Called for every inbound message of a channel whose
        survey is on: keep it cheap; never stores anything. The kit records the score only
        when the sender has an invitation waiting on this channel."""
        return None
