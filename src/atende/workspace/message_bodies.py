"""The timeline's message bodies: inbound mail as folded, image-safe HTML, and its .eml."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest

from atende.channels.models import InboundEvent
from atende.connectors.email import raw_store
from atende.ids import parse_id
from atende.tickets.models import Direction, Message
from atende.workspace.mail_body import Body, render_html, render_text

MAX_ALLOWED = 20  # messages whose remote images one page may show


def allowed_images(request: HttpRequest) -> set[int]:
    """Messages whose remote images the agent chose to see (`?images=<message id>`)."""
    return {i for v in request.GET.getlist("images")[:MAX_ALLOWED]
            if (i := parse_id(v)) is not None}


def raw_mail_names(org_id: int, message_ids: Iterable[int]) -> dict[int, dict[str, object]]:
    """The stored inbound event payload (raw .eml name, inline image map) per message."""
    found: dict[int, dict[str, object]] = {}
    events = (InboundEvent.objects.for_org(org_id).filter(message_id__in=list(message_ids))
              .filter(payload__has_key="raw").order_by("-pk").values_list("message_id", "payload"))
    for message_id, payload in events:
        if isinstance(payload, dict) and isinstance(payload.get("raw"), str):
            found[message_id] = payload  # the first event of a message wins (ordered last)
    return found


def raw_mail_download(org_id: int, payload: object, filename: str) -> FileResponse:
    """The stored `.eml` as a download (never rendered inline); 404 unless the payload
    points at a mail `receive` stored for this organisation."""
    handle = raw_store.open_mail(org_id, payload) if isinstance(payload, Mapping) else None
    if handle is None:
        raise Http404
    return FileResponse(handle, as_attachment=True, content_type="message/rfc822",
                        filename=filename)


def attach_bodies(org_id: int, items: Iterable[object], allowed: set[int]) -> set[str]:
    """Set `body` (and `eml` for stored mail) on each inbound message; returns the image
    origins the page must let the browser load (only those of allowed messages)."""
    messages = [i for i in items if isinstance(i, Message)]
    for message in messages:
        # Defaults for every message: a lookup the template cannot resolve costs Django an
        # exception and a dir() of the object, and an outbound message missed three.
        message.inline_ids = set()  # type: ignore[attr-defined]
        message.body = None  # type: ignore[attr-defined]
        message.eml = False  # type: ignore[attr-defined]
    inbound = [m for m in messages if m.direction == Direction.INBOUND]
    mail = [m for m in inbound if m.channel is not None and m.channel.kind == "email"]
    events = raw_mail_names(org_id, [m.pk for m in mail]) if mail else {}
    origins: set[str] = set()
    for message in inbound:
        payload = events.get(message.pk, {})
        cids = payload.get("cids")
        body: Body
        if message.html.strip():
            body = render_html(message.html, attachments=message.attachments.all(),
                               cids=cids if isinstance(cids, dict) else {},
                               allow_remote=message.pk in allowed)
        else:
            body = render_text(message.text)
        message.body = body  # type: ignore[attr-defined]
        message.eml = bool(payload)  # type: ignore[attr-defined]
        message.inline_ids = body.inline_ids  # type: ignore[attr-defined]
        origins |= body.remote_origins
    return origins


def csp_with_images(origins: set[str]) -> dict[str, list[str]]:
    """The site policy with exactly these image origins added (for one response)."""
    policy: dict[str, list[str]] = {
        k: [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)]
        for k, v in settings.SECURE_CSP.items()}
    policy["img-src"] = [*policy.get("img-src", []), *sorted(origins)]
    return policy
