"""API shapes of the generic API channel: what an external system posts, and what the channel
management and audit endpoints answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AwareDatetime, Field

from atende.api_errors import ErrorOut

ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   429: ErrorOut}

# --- inbound: an external system posts a customer's message ---------------------------------


class ContactIn(Schema):
    id: str = Field(min_length=1, max_length=255,
                    description="The external system's id for this person.")
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254,
                              description="Kept as an extra identity when valid.")
    phone: str | None = Field(default=None, max_length=40,
                              description="Kept as an extra identity when valid.")


class AttachmentIn(Schema):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=150)
    content_base64: str = Field(description="The file, base64-encoded (at most 25 MB decoded).")


class MessageIn(Schema):
    message_id: str = Field(min_length=1, max_length=255,
                            description="Your id for this message; repeating it is safe.")
    conversation_id: str = Field(min_length=1, max_length=400,
                                 description="Your conversation id: its messages share a ticket.")
    contact: ContactIn
    text: str = Field(max_length=100_000)
    html: str = Field(default="", max_length=500_000)
    subject: str = Field(default="", max_length=300)
    sent_at: AwareDatetime | None = Field(
        default=None, description="When the customer wrote it (ISO 8601 with a time zone).")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class MessageAcceptedOut(Schema):
    ticket_id: int
    protocol: str
    message_id: int = Field(description="Atende's id of the stored message.")
    external_id: str = Field(description="Your message_id.")
    status: Literal["processed", "duplicate"]
    duplicate: bool
    created_ticket: bool


# --- channel management ---------------------------------------------------------------------


class ChannelCreateIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    service_id: int | None = None
    webhook_url: str = Field(default="", max_length=1000,
                             description="Where agents' replies are POSTed (signed JSON).")


class ChannelUpdateIn(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    service_id: int | None = Field(default=None, description="0 removes the service.")
    webhook_url: str | None = Field(default=None, max_length=1000,
                                    description="An empty string removes it.")
    is_active: bool | None = None


class ChannelOut(Schema):
    id: int
    kind: str
    name: str
    service_id: int | None
    is_active: bool
    webhook_url: str | None = Field(description="API channels only.")
    created_at: datetime


class ChannelCreatedOut(ChannelOut):
    api_key: str = Field(description="The channel's key; shown only in this response.")
    signing_secret: str = Field(description="Verifies our webhook signatures; shown only here.")


class ChannelKeyOut(Schema):
    id: int
    prefix: str
    api_key: str = Field(description="Shown only in this response.")
    created_at: datetime


class ConnectionTestOut(Schema):
    ok: bool
    message: str
    step: str


# --- audit ------------------------------------------------------------------------------------


class InboundAuditOut(Schema):
    direction: Literal["in"]
    id: int
    provider_id: str
    status: Literal["received", "processed", "duplicate", "quarantined"]
    error: str
    received_at: datetime
    processed_at: datetime | None
    ticket_id: int | None
    message_id: int | None


class OutboundAuditOut(Schema):
    direction: Literal["out"]
    id: int = Field(description="The message id.")
    ticket_id: int
    delivery_status: Literal["received", "queued", "sent", "delivered", "read", "failed"]
    failure_reason: str
    send_attempts: int
    external_id: str
    created_at: datetime
    sent_at: datetime | None


class AuditPage(Schema):
    items: list[Annotated[InboundAuditOut | OutboundAuditOut, Field(discriminator="direction")]]
    next_cursor: str | None
