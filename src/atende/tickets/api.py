"""REST endpoints for tickets: thin handlers over tickets.services and tickets.selectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from atende.api_errors import ApiError, ErrorOut
from atende.channels.models import Channel, ChannelKind
from atende.contacts.models import IdentityKind
from atende.contacts.services import find_or_create_contact
from atende.tenancy.api_auth import org_key
from atende.tenancy.idempotency import run_once
from atende.tenancy.models import Membership, Permission, Service, User
from atende.tickets import selectors
from atende.tickets.custom_fields import validate_custom_fields
from atende.tickets.models import Attachment
from atende.tickets.schemas import (
    CommentIn,
    MessageOut,
    TicketCreateIn,
    TicketDetailOut,
    TicketOut,
    TicketPage,
    TicketUpdateIn,
)
from atende.tickets.serializers import message_out, ticket_detail_out, ticket_out
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import UNSET, update_ticket
from atende.tickets.services.create import open_ticket, tag_names
from atende.tickets.services.replies import NewAttachment, post_message

router = Router(tags=["tickets"])
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   429: ErrorOut}


def _actor(request: HttpRequest) -> Actor:
    key = request.auth  # type: ignore[attr-defined]
    return Actor(label=f"api-key:{key.name}")


def _service(org_id: int, service_id: int | None) -> Service | None:
    if not service_id:
        return None
    try:
        return Service.objects.for_org(org_id).get(pk=service_id)
    except Service.DoesNotExist:
        raise ApiError(400, "invalid", _("Unknown service."), "service_id") from None


def _agent(org_id: int, user_id: int) -> User:
    membership = Membership.objects.for_org(org_id).select_related("user").filter(
        user_id=user_id, is_active=True).first()
    if membership is None:
        raise ApiError(400, "invalid", _("This agent is not in the organisation."), "assignee_id")
    return membership.user


def _answering_channel(org_id: int) -> Channel | None:
    """The e-mail channel the organisation chose to answer tickets created here (CORE-12):
    the requester then hears from it, and agents' answers go out by mail. None: the ticket
    has no channel, as before, and nobody is written to."""
    return (Channel.objects.for_org(org_id).select_related("service")
            .filter(kind=ChannelKind.EMAIL, is_active=True, settings__api_tickets=True)
            .order_by("pk").first())


@router.post("/tickets", response={201: TicketOut, **ERRORS, 409: ErrorOut},
             summary="Create a ticket")
def create_ticket(request: HttpRequest, payload: TicketCreateIn) -> Status[Any]:
    """Opens a ticket for the requester (found or created by e-mail). Send an
    `Idempotency-Key` header to make retries safe."""
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    org = key.organization

    @transaction.atomic
    def action() -> tuple[int, Any]:
        try:
            contact = find_or_create_contact(org, IdentityKind.EMAIL, payload.requester_email,
                                             payload.requester_name)
        except ValidationError as exc:
            raise ApiError(400, "invalid", " ".join(exc.messages), "requester_email") from None
        custom = validate_custom_fields(org.pk, payload.custom_fields)
        channel = _answering_channel(org.pk)
        service = _service(org.pk, payload.service_id)
        ticket, _msg = open_ticket(
            organization=org, contact=contact, subject=payload.title, actor=_actor(request),
            origin="api", description=payload.description, priority=payload.priority,
            category=payload.category, channel=channel,
            service=service if service is not None or channel is None else channel.service,
            custom_fields=custom, tags=payload.tags,
        )
        # The ticket, its contact and its tags are in hand; load only the identities.
        prefetch_related_objects([ticket], "contact__identities")
        return 201, ticket_out(ticket, tag_names(payload.tags))

    status, body = run_once(org.pk, request.headers.get("Idempotency-Key"), request.body, action)
    return Status(status, body)


class TicketListQuery(Schema):
    status: list[str] | None = Field(default=None, description="Repeat for several.")
    channel: str | None = Field(default=None, description="A channel kind or a channel id.")
    service_id: int | None = None
    assignee_id: int | None = Field(default=None, description="0 lists unassigned tickets.")
    priority: list[str] | None = None
    tag: str | None = None
    updated_since: datetime | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)


@router.get("/tickets", response={200: TicketPage, **ERRORS}, summary="List tickets")
def list_tickets(request: HttpRequest, q: Query[TicketListQuery]) -> dict[str, Any]:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    filters = selectors.TicketFilters(
        status=q.status, channel=q.channel, service_id=q.service_id,
        assignee_id=q.assignee_id or None, unassigned=q.assignee_id == 0,
        priority=q.priority, tag=q.tag, updated_since=q.updated_since,
    )
    try:
        rows, next_cursor = selectors.tickets_page(key.organization_id, filters,
                                                   cursor=q.cursor, limit=q.limit)
    except selectors.BadCursor:
        raise ApiError(400, "invalid", _("Invalid cursor."), "cursor") from None
    return {"items": [ticket_out(t) for t in rows], "next_cursor": next_cursor}


@router.get("/tickets/{ticket_id}", response={200: TicketDetailOut, **ERRORS},
            summary="Get a ticket with its timeline")
def get_ticket(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    ticket = selectors.ticket_for(key.organization_id, ticket_id)
    return ticket_detail_out(ticket, selectors.timeline(ticket))


@router.patch("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS},
              summary="Update status, priority, assignee, service, tags or fields")
def patch_ticket(request: HttpRequest, ticket_id: int, payload: TicketUpdateIn) -> dict[str, Any]:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    org_id = key.organization_id
    ticket = selectors.ticket_for(org_id, ticket_id)
    changes: dict[str, Any] = {}
    data = payload.model_dump(exclude_unset=True)
    if data.get("status") is not None:
        changes["status"] = data["status"]
    if data.get("priority") is not None:
        changes["priority"] = data["priority"]
    if "assignee_id" in data:
        changes["assignee"] = _agent(org_id, data["assignee_id"]) if data["assignee_id"] else None
    if "service_id" in data:
        changes["service"] = _service(org_id, data["service_id"])
    if data.get("category") is not None:
        changes["category"] = data["category"]
    if data.get("title") is not None:
        changes["subject"] = data["title"]
    if data.get("tags") is not None:
        changes["tags"] = data["tags"]
    if data.get("custom_fields") is not None:
        changes["custom_fields"] = validate_custom_fields(
            org_id, data["custom_fields"], current=ticket.custom_fields, partial=True)
    update_ticket(ticket, _actor(request), **{k: v for k, v in changes.items() if v is not UNSET})
    return ticket_out(selectors.ticket_for(org_id, ticket_id))


def _comment_author(org_id: int, email: str | None) -> User | None:
    if not email:
        return None
    membership = Membership.objects.for_org(org_id).select_related("user").filter(
        user__email=email.strip().lower(), is_active=True).first()
    if membership is None:
        raise ApiError(400, "invalid", _("This agent is not in the organisation."), "author_email")
    return membership.user


@router.post("/tickets/{ticket_id}/comments", response={201: MessageOut, **ERRORS},
             summary="Add a public answer or an internal note")
def add_comment(request: HttpRequest, ticket_id: int, payload: CommentIn) -> Status[Any]:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    ticket = selectors.ticket_for(key.organization_id, ticket_id)
    author = _comment_author(key.organization_id, payload.author_email)
    actor = Actor(user=author, label=f"api-key:{key.name}")
    message = post_message(ticket, actor, text=payload.text, html=payload.html,
                           internal=not payload.public)
    return Status(201, message_out(message))


@router.post("/tickets/{ticket_id}/attachments", response={201: MessageOut, **ERRORS,
                                                           413: ErrorOut},
             summary="Attach files (multipart), as a public answer or an internal note")
def add_attachments(request: HttpRequest, ticket_id: int,
                    files: File[list[UploadedFile]],
                    text: Form[str] = "", public: Form[bool] = False) -> Status[Any]:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    ticket = selectors.ticket_for(key.organization_id, ticket_id)
    attachments = [NewAttachment(f.name or "attachment", f.content_type or "", f) for f in files]
    message = post_message(ticket, _actor(request), text=text, internal=not public,
                           attachments=attachments)
    return Status(201, message_out(message))




@router.get("/attachments/{attachment_id}", response={200: None, **ERRORS},
            summary="Download an attachment")
def download_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    attachment = Attachment.objects.for_org(key.organization_id).get(pk=attachment_id)
    response = FileResponse(attachment.file.open("rb"), as_attachment=True,
                            filename=attachment.filename, content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
