"""What an external system calls on its API channel: post a customer's message, download a
reply's attachment, read the channel's audit log. Channel management is in `manage_views`.

Any of these accepts the channel's own key or an organisation key of the same tenant; any
other key gets 404, as for a channel that does not exist.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from atende import json_input
from atende.api_errors import ApiError, ErrorOut
from atende.channels.models import ChannelKind, InboundStatus
from atende.connectors.api import audit, inbound
from atende.connectors.api.channels import access_channel
from atende.connectors.api.manage_views import router as manage_router
from atende.connectors.api.schemas import ERRORS, AuditPage, MessageAcceptedOut, MessageIn
from atende.stored_files import file_response
from atende.tenancy.models import ApiKey
from atende.tickets.models import Attachment

router = Router(tags=["channels"])
router.add_router("", manage_router)


def _key(request: HttpRequest) -> ApiKey:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return key


@router.post(
    "/channels/{channel_id}/messages",
    response={200: MessageAcceptedOut, 201: MessageAcceptedOut, **ERRORS, 413: ErrorOut,
              500: ErrorOut},
    summary="Post a customer's message into an API channel",
)
def post_channel_message(request: HttpRequest, channel_id: int,
                         payload: MessageIn) -> Status[dict[str, Any]]:
    """Opens a ticket, or adds to the ticket of the same `conversation_id`. Safe to retry:
    a repeated `message_id` answers 200 with the same ids and `duplicate: true`."""
    channel = access_channel(_key(request), channel_id, kind=ChannelKind.API)
    if not channel.is_active:
        raise ApiError(403, "channel_inactive", _("This channel is disabled."))
    try:
        result = inbound.receive(channel, payload, json_input.loads(request.body))
    except inbound.InvalidPayload as exc:
        raise ApiError(400, "invalid", exc.message, exc.field) from None
    except inbound.IngestFailed as exc:
        raise ApiError(500, "ingest_failed", _(
            "The message was kept (event %(event)d) but could not be processed. "
            "Send it again with the same message_id.") % {"event": exc.event_id}) from None
    ticket, message = result.ticket, result.message
    return Status(200 if result.duplicate else 201, {
        "ticket_id": ticket.pk, "protocol": ticket.protocol, "message_id": message.pk,
        "external_id": message.external_id,
        "status": InboundStatus.DUPLICATE if result.duplicate else InboundStatus.PROCESSED,
        "duplicate": result.duplicate, "created_ticket": result.created_ticket,
    })


@router.get("/channels/{channel_id}/attachments/{attachment_id}",
            response={200: None, **ERRORS}, url_name="channel_attachment",
            summary="Download a file of a message on this channel")
def download_channel_attachment(request: HttpRequest, channel_id: int,
                                attachment_id: int) -> HttpResponseBase:
    channel = access_channel(_key(request), channel_id)
    attachment = Attachment.objects.for_org(channel.organization_id).get(
        pk=attachment_id, message__channel=channel)
    return file_response(attachment.file.name, filename=attachment.filename,
                         content_type=attachment.content_type, may_redirect=False)


class AuditQuery(Schema):
    direction: Literal["in", "out"] | None = Field(
        default=None, description="`in`: events received; `out`: replies sent. Both if unset.")
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)


@router.get("/channels/{channel_id}/audit", response={200: AuditPage, **ERRORS},
            summary="What came in and went out through a channel, newest first")
def channel_audit(request: HttpRequest, channel_id: int,
                  q: Query[AuditQuery]) -> dict[str, Any]:
    channel = access_channel(_key(request), channel_id)
    try:
        items, next_cursor = audit.audit_page(channel, direction=q.direction, cursor=q.cursor,
                                              limit=q.limit)
    except audit.BadCursor:
        raise ApiError(400, "invalid", _("Invalid cursor."), "cursor") from None
    return {"items": items, "next_cursor": next_cursor}
