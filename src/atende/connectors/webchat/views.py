"""The widget's public endpoints: the script, its configuration, the visitor's session,
messages, typing and the live stream. Thin: resolve the widget and the visitor, check
the origin and the rate limits, call the connector's services, answer JSON.

Cross-origin by design: CORS answers name the caller's origin only when the widget's
allow-list admits it; the visitor's token travels in `Authorization` (the stream, which
EventSource cannot give headers, takes it as `?token=`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from atende import json_input
from atende.client_address import client_ip
from atende.connectors.webchat import conversation, files, inbound, limits, visitors
from atende.connectors.webchat.indicators import signal_typing
from atende.connectors.webchat.stream import VisitorFilter
from atende.connectors.webchat.widget import Widget, widget_for
from atende.ids import parse_id
from atende.realtime import outbox
from atende.realtime.outbox import releasing_connection
from atende.realtime.views import event_stream

SCRIPT = Path(__file__).with_name("assets") / "v1.js"
MAX_CLIENT_ID = 64


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _cors(response: HttpResponseBase, origin: str | None) -> HttpResponseBase:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        response["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Last-Event-ID"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
    return response


def _language(request: HttpRequest) -> str:
    accepted = request.headers.get("Accept-Language", "").lower()
    return "pt-br" if accepted.startswith("pt") or not accepted.startswith("en") else "en"


type View = Callable[..., HttpResponseBase]


def widget_endpoint(view: View) -> View:
    """Resolve the widget, refuse an origin off its allow-list, answer preflights, add
    the CORS headers, speak the visitor's language."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, public_id: str, **kwargs: Any) -> HttpResponseBase:
        origin = request.headers.get("Origin")
        with translation.override(_language(request)):
            widget = widget_for(public_id)
            if widget is None:
                return error(404, "not_found", _("There is no chat with this id."))
            if not widget.allows(origin):
                return error(403, "origin", _("This site may not show this chat."))
            if request.method == "OPTIONS":
                return _cors(HttpResponse(status=204), origin)
            return _cors(view(request, widget, **kwargs), origin)

    return wrapper


def _visitor(request: HttpRequest, widget: Widget) -> visitors.Visitor | None:
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    try:
        return visitors.read(token, widget) if token else None
    except visitors.BadToken:
        return None


def _unknown_visitor() -> JsonResponse:
    return error(401, "visitor", _("Start the chat again: this conversation was not found."))


def _json(request: HttpRequest) -> dict[str, Any] | None:
    try:
        body = json_input.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def script(request: HttpRequest) -> HttpResponse:
    """The widget itself: one plain file, cacheable for an hour, loadable from any site."""
    response = HttpResponse(SCRIPT.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@widget_endpoint
def config(request: HttpRequest, widget: Widget) -> HttpResponseBase:
    return JsonResponse(widget.public_config(translation.get_language() or "pt-br"))


@widget_endpoint
def session(request: HttpRequest, widget: Widget) -> HttpResponseBase:
    """A new visitor token (or the caller's own, still valid). Pre-chat answers and the
    host's signed user id come in the body; the honeypot field must stay empty."""
    if request.method != "POST":
        return error(405, "method", _("Use POST."))
    if not limits.allow("session-ip", client_ip(request), limits.per_ip_sessions()):
        return error(429, "rate_limited", _("Too many chats started from here. Try again "
                                            "in a minute."))
    body = _json(request)
    if body is None:
        return error(400, "invalid", _("The request is not valid JSON."))
    if str(body.get("website") or ""):  # a field people never see: a bot filled it in
        return error(400, "invalid", _("The form could not be sent."))
    name, email = str(body.get("name") or "").strip(), str(body.get("email") or "").strip()
    # Outside business hours the answer goes by e-mail: the offline form asks for it.
    prechat = widget.options["prechat"] if widget.online else "required"
    if prechat == "required" and (not name or "@" not in email):
        return error(400, "prechat", _("Please fill in your name and e-mail."))
    if email and ("@" not in email or len(email) > 254):
        return error(400, "prechat", _("This e-mail address is not valid."))
    try:
        visitor = visitors.new_visitor(widget, name=name, email=email,
                                       user_id=str(body.get("user_id") or ""),
                                       user_hash=str(body.get("user_hash") or ""))
    except visitors.BadToken:
        return error(403, "identity", _("The signed-in user could not be verified."))
    return JsonResponse({"token": visitors.issue(visitor), "verified": visitor.verified})


@widget_endpoint
def messages(request: HttpRequest, widget: Widget) -> HttpResponseBase:
    visitor = _visitor(request, widget)
    if visitor is None:
        return _unknown_visitor()
    if request.method == "POST":
        return _send(request, widget, visitor)
    # The cursor is read before the history: a message committed in between is both in
    # the history and replayed by the stream, and the widget drops the second copy.
    cursor = outbox.latest_id_for_org(widget.channel.organization_id)
    return JsonResponse({"messages": conversation.history(widget.channel, visitor),
                         "cursor": cursor,
                         "position": conversation.waiting_position(widget.channel, visitor)})


def _send(request: HttpRequest, widget: Widget, visitor: visitors.Visitor) -> HttpResponseBase:
    if not limits.allow("msg-visitor", visitor.key, limits.PER_VISITOR_MESSAGES) or \
            not limits.allow("msg-ip", client_ip(request), limits.per_ip_messages()):
        return error(429, "rate_limited", _("You are sending messages too fast. Wait a "
                                            "moment and try again."))
    kept: list[dict[str, str]] = []
    if request.content_type == "multipart/form-data":
        body: dict[str, Any] = request.POST.dict()
        upload = request.FILES.get("file")
        if upload is not None:
            try:
                kept.append(files.keep(widget.channel.pk, upload.name or "file", upload.size or 0,
                                       upload.read(files.MAX_BYTES + 1)))
            except files.FileRefused as exc:
                return error(413 if exc.code == "file_too_large" else 415, exc.code,
                             exc.message)
    else:
        parsed = _json(request)
        if parsed is None:
            return error(400, "invalid", _("The request is not valid JSON."))
        body = parsed
    client_id = str(body.get("client_id") or "")
    text = str(body.get("text") or "").strip()
    if not client_id or len(client_id) > MAX_CLIENT_ID:
        return error(400, "invalid", _("The message has no id."))
    if not text and not kept:
        return error(400, "empty", _("Write a message."))
    if len(text) > inbound.MAX_TEXT:
        return error(400, "too_long", _("The message is too long."))
    try:
        result = inbound.receive(widget.channel, visitor, client_id, text, kept)
    except inbound.ReceiveFailed:
        return error(503, "unavailable", _("The message could not be delivered now. It "
                                           "will be sent again."))
    m = result.message
    return JsonResponse({"message": conversation.visitor_message(
        m.pk, m.direction, m.text, m.created_at.isoformat(), "",
        [{"name": a.filename, "type": a.content_type, "size": a.size}
         for a in m.attachments.all()]),
        "position": conversation.waiting_position(widget.channel, visitor)}, status=201)


@widget_endpoint
def typing(request: HttpRequest, widget: Widget) -> HttpResponseBase:
    visitor = _visitor(request, widget)
    if visitor is None:
        return _unknown_visitor()
    if request.method != "POST":
        return error(405, "method", _("Use POST."))
    if not limits.allow("typing", visitor.key, limits.PER_VISITOR_TYPING):
        return HttpResponse(status=204)  # typing signals are best effort
    ticket_id = conversation.ticket_id_of(widget.channel, visitor)
    body = _json(request) or {}
    if ticket_id is not None:
        signal_typing(widget.channel.organization_id, ticket_id, "visitor",
                      bool(body.get("typing")))
    return HttpResponse(status=204)


@releasing_connection
def _open(request: HttpRequest, public_id: str
          ) -> tuple[Widget, visitors.Visitor, int, int | None] | JsonResponse:
    widget = widget_for(public_id)
    if widget is None:
        return error(404, "not_found", _("There is no chat with this id."))
    if not widget.allows(request.headers.get("Origin")):
        return error(403, "origin", _("This site may not show this chat."))
    try:
        visitor = visitors.read(request.GET.get("token", ""), widget)
    except visitors.BadToken:
        return _unknown_visitor()
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    after = parse_id(raw) if raw else None
    if after is None:
        after = outbox.latest_id_for_org(widget.channel.organization_id)
    return widget, visitor, after, conversation.ticket_id_of(widget.channel, visitor)


async def stream(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """The visitor's conversation live, as text/event-stream; resumes after Last-Event-ID
    (the browser's own reconnection, or `?last_event_id=` after a page change)."""
    origin = request.headers.get("Origin")
    with translation.override(_language(request)):
        opened = await sync_to_async(_open)(request, public_id)
    if isinstance(opened, JsonResponse):
        return _cors(opened, origin if opened.status_code != 403 else None)
    widget, visitor, after, ticket_id = opened
    digest = inbound.visitor_digest(visitor.key)
    event_filter = VisitorFilter(widget.channel.pk, digest, ticket_id)
    response = StreamingHttpResponse(
        event_stream(widget.channel.organization_id, after, event_filter),
        content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return _cors(response, origin)


def test_page(request: HttpRequest, public_id: str) -> HttpResponse:
    """A page that embeds the snippet, for trying the widget (`atende demo` prints it)."""
    widget = widget_for(public_id)
    if widget is None:
        return HttpResponse(status=404)
    snippet = (f'<script src="{request.build_absolute_uri("/widget/v1.js")}" '
               f'data-atende-widget="{json.dumps(widget.public_id)[1:-1]}" async></script>')
    title, hint = _("Widget test page"), _("The chat button is in the corner.")
    html = ("<!doctype html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{title}</title></head><body><h1>{title}</h1><p>{hint}</p>"
            f"{snippet}</body></html>")
    return HttpResponse(html)
