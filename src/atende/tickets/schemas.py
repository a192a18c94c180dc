"""API shapes for tickets and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

PriorityIn = Literal["low", "normal", "high", "urgent"]
StatusIn = Literal["new", "open", "pending", "resolved", "closed"]


class TicketCreateIn(Schema):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=100_000)
    priority: PriorityIn = "normal"
    category: str = Field(default="", max_length=100)
    requester_email: str = Field(min_length=3, max_length=254)
    requester_name: str = Field(default="", max_length=200)
    service_id: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class TicketUpdateIn(Schema):
    status: StatusIn | None = None
    priority: PriorityIn | None = None
    assignee_id: int | None = Field(default=None, description="0 unassigns.")
    service_id: int | None = Field(default=None, description="0 removes the service.")
    category: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, min_length=1, max_length=300)
    tags: list[str] | None = Field(default=None, max_length=50)
    custom_fields: dict[str, Any] | None = None


class CommentIn(Schema):
    text: str = Field(default="", max_length=100_000)
    html: str = Field(default="", max_length=500_000)
    public: bool = True
    author_email: str | None = Field(
        default=None, description="An agent of the organisation to sign the comment."
    )


class ContactOut(Schema):
    id: int
    name: str
    identities: list[dict[str, str]]


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class MessageOut(Schema):
    id: int
    direction: Literal["inbound", "outbound", "note", "system"]
    channel_id: int | None
    author_user_id: int | None
    author_contact_id: int | None
    text: str
    html: str
    external_id: str
    delivery_status: Literal["received", "queued", "sent", "delivered", "read", "failed"]
    failure_reason: str
    created_at: datetime
    attachments: list[AttachmentOut]


class AuditOut(Schema):
    id: int
    actor_user_id: int | None
    actor: str
    action: str
    field: str
    before: Any = None
    after: Any = None
    created_at: datetime


class TimelineItem(Schema):
    type: Literal["message", "audit"]
    message: MessageOut | None = None
    audit: AuditOut | None = None


class TicketOut(Schema):
    id: int
    number: int
    protocol: str
    title: str
    description: str
    status: Literal["new", "open", "pending", "resolved", "closed"]
    priority: Literal["low", "normal", "high", "urgent"]
    category: str
    origin: str
    channel_id: int | None
    service_id: int | None
    assignee_id: int | None
    contact: ContactOut
    tags: list[str]
    finalization_tag: str | None
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_policy_id: int | None = Field(description="The SLA policy the ticket follows.")
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None = Field(
        description="Moves later while the ticket is pending, resolved or closed.")
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None


class TicketDetailOut(TicketOut):
    timeline: list[TimelineItem]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None

