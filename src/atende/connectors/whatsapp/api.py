"""REST endpoints of the WhatsApp channel (organisation keys): approved templates of a
channel, the 24-hour window of a ticket, sending a template on a ticket, a test message,
and what a bot uses while a conversation is with it (answer, hand off; see bot.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from atende.api_errors import ApiError, ErrorOut
from atende.channels.models import Channel, ChannelKind
from atende.connectors.whatsapp.bot import conversation_for, hand_off, send_bot_text
from atende.connectors.whatsapp.channels import send_test_message
from atende.connectors.whatsapp.client import ProviderError
from atende.connectors.whatsapp.outbound import describe_error
from atende.connectors.whatsapp.templates import approved_templates, send_template
from atende.connectors.whatsapp.window import window_state
from atende.tenancy.api_auth import org_key
from atende.tenancy.models import Permission
from atende.tickets.selectors import ticket_for
from atende.tickets.services.actor import Actor

router = Router(tags=["whatsapp"])
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   409: ErrorOut, 429: ErrorOut, 502: ErrorOut}


class TemplateOut(Schema):
    name: str
    language: str
    category: str
    body: str
    variables: int


class TemplateSendIn(Schema):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(default="pt_BR", max_length=20)
    params: list[str] = Field(default_factory=list, max_length=20, description=(
        "Values of {{1}}, {{2}}…; `{name}`, `{protocol}`, `{status}` and `{subject}` are "
        "filled from the ticket. Empty: the variables take those values in that order."))


class TemplateSentOut(Schema):
    message_id: int
    text: str
    delivery_status: str


class WindowOut(Schema):
    open: bool
    closes_at: datetime | None


class TestMessageIn(Schema):
    number: str = Field(min_length=4, max_length=40)
    text: str = Field(default="", max_length=1000)


class TestMessageOut(Schema):
    ok: bool
    message: str


class BotTextIn(Schema):
    text: str = Field(min_length=1, max_length=4096)


class BotTextOut(Schema):
    id: str


class HandOffIn(Schema):
    service_id: int | None = None
    note: str = Field(default="", max_length=2000)


class HandOffOut(Schema):
    ticket_id: int
    protocol: str
    handed_off: bool = Field(description="False when it had been handed off already")


def _channel(request: HttpRequest, channel_id: int) -> Channel:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    return Channel.objects.for_org(key.organization_id).get(pk=channel_id,
                                                           kind=ChannelKind.WHATSAPP)


def _provider_down(exc: ProviderError) -> ApiError:
    return ApiError(502, "provider_error", describe_error(exc))


@router.get("/whatsapp/channels/{channel_id}/templates",
            response={200: list[TemplateOut], **ERRORS},
            summary="Approved templates of a WhatsApp channel")
def list_templates(request: HttpRequest, channel_id: int,
                   refresh: bool = False) -> list[dict[str, Any]]:
    channel = _channel(request, channel_id)
    try:
        return [t.as_dict() for t in approved_templates(channel, refresh=refresh)]
    except ProviderError as exc:
        raise _provider_down(exc) from None


@router.post("/whatsapp/channels/{channel_id}/test-message",
             response={200: TestMessageOut, **ERRORS},
             summary="Send a test message to a number; answers with the provider's reply")
def test_message(request: HttpRequest, channel_id: int,
                 payload: TestMessageIn) -> dict[str, Any]:
    channel = _channel(request, channel_id)
    try:
        result = send_test_message(channel, payload.number, payload.text)
    except ValidationError as exc:
        raise ApiError(400, "invalid", " ".join(exc.messages), "number") from None
    return {"ok": result.ok, "message": result.message}


@router.get("/tickets/{ticket_id}/whatsapp/window", response={200: WindowOut, **ERRORS},
            summary="The 24-hour window of a WhatsApp ticket")
def ticket_window(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    ticket = ticket_for(org_key(request, Permission.VIEW_ALL_TICKETS).organization_id, ticket_id)
    if ticket.channel is None or ticket.channel.kind != ChannelKind.WHATSAPP:
        raise ApiError(400, "invalid", _("This ticket did not come through WhatsApp."),
                       "ticket_id")
    is_open, closes_at = window_state(ticket)
    return {"open": is_open, "closes_at": closes_at}


@router.post("/tickets/{ticket_id}/whatsapp/template",
             response={201: TemplateSentOut, **ERRORS},
             summary="Send an approved template on a WhatsApp ticket")
def post_template(request: HttpRequest, ticket_id: int,
                  payload: TemplateSendIn) -> Status[dict[str, Any]]:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    ticket = ticket_for(key.organization_id, ticket_id)
    try:
        message = send_template(ticket, payload.name, payload.language, payload.params,
                                Actor(label=f"api-key:{key.name}"))
    except ProviderError as exc:
        raise _provider_down(exc) from None
    return Status(201, {"message_id": message.pk, "text": message.text,
                        "delivery_status": message.delivery_status})


@router.post("/whatsapp/conversations/{conversation_id}/messages",
             response={201: BotTextOut, **ERRORS},
             summary="Answer the customer as the bot while the conversation is with it")
def bot_message(request: HttpRequest, conversation_id: int,
                payload: BotTextIn) -> Status[dict[str, Any]]:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    conversation = conversation_for(key.organization_id, conversation_id)
    try:
        entry = send_bot_text(conversation, payload.text)
    except ProviderError as exc:
        raise _provider_down(exc) from None
    return Status(201, {"id": entry.wamid})


@router.post("/whatsapp/conversations/{conversation_id}/handoff",
             response={200: HandOffOut, **ERRORS},
             summary="Hand a conversation from the bot to the queue (opens its ticket)")
def bot_handoff(request: HttpRequest, conversation_id: int,
                payload: HandOffIn) -> dict[str, Any]:
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    result = hand_off(key.organization_id, conversation_id, service_id=payload.service_id,
                      note=payload.note, actor=Actor(label=f"api-key:{key.name}"))
    return {"ticket_id": result.ticket.pk, "protocol": result.ticket.protocol,
            "handed_off": result.created}
