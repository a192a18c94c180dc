"""Walk every operation of the API with a second organisation's key: another tenant's object
is always 404 (never 403, never its data), and no list shows another tenant's rows.

New endpoints are covered automatically; a new path parameter must be added to OBJECTS."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from atende.channels.models import Channel, ChannelKind
from atende.connectors.whatsapp.models import BotConversation
from atende.webhooks.models import WebhookDelivery
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
MARKER = "SEGREDO-DA-ACME"


def _ticket(owner: Tenant) -> int:
    body = owner.client.post("/api/v1/tickets", {
        "title": MARKER, "description": MARKER, "requester_email": "segredo@acme.test",
        "tags": [MARKER.lower()],
    }).json()
    return int(body["id"])


def build_objects(owner: Tenant) -> dict[str, int]:
    ticket_id = _ticket(owner)
    upload = SimpleUploadedFile("segredo.txt", MARKER.encode())
    message = owner.client.client.post(f"/api/v1/tickets/{ticket_id}/attachments",
                                       {"files": [upload], "text": MARKER}).json()
    sub = owner.client.post("/api/v1/webhooks", {
        "url": "http://127.0.0.1:9/hook", "events": ["ticket.created"], "description": MARKER,
    }).json()
    _ticket(owner)  # produces a delivery for the subscription
    delivery = WebhookDelivery.objects.filter(subscription_id=sub["id"]).first()
    channel = Channel.objects.create(organization=owner.org, kind=ChannelKind.API, name=MARKER)
    conversation = BotConversation.objects.create(organization=owner.org, channel=channel,
                                                  number="+5511987654321", name=MARKER)
    contact = owner.client.post("/api/v1/contacts", {"name": MARKER, "notes": MARKER}).json()
    return {
        "ticket_id": ticket_id,
        "contact_id": contact["id"],
        "attachment_id": message["attachments"][0]["id"],
        "message_id": message["id"],
        "subscription_id": sub["id"],
        "delivery_id": delivery.pk if delivery else 0,
        "channel_id": channel.pk,
        "conversation_id": conversation.pk,
    }


# A valid body per operation, so the answer is about the object and not about validation.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/api/v1/tickets/{ticket_id}"): {"status": "open"},
    ("patch", "/api/v1/contacts/{contact_id}"): {"name": "x"},
    ("post", "/api/v1/contacts/{contact_id}/merge"): {"source_id": 1},
    ("post", "/api/v1/tickets/{ticket_id}/comments"): {"text": "x"},
    ("post", "/api/v1/tickets/{ticket_id}/csat"): {"score": 4},
    ("post", "/api/v1/channels/{channel_id}/csat"): {"ticket_id": 1, "score": 4},
    ("post", "/api/v1/channels/{channel_id}/messages"): {
        "message_id": "m-1", "conversation_id": "c-1", "contact": {"id": "p-1"}, "text": "oi",
    },
    ("patch", "/api/v1/channels/{channel_id}"): {"name": "renamed"},
    ("post", "/api/v1/whatsapp/channels/{channel_id}/test-message"): {"number": "+5511987654321"},
    ("post", "/api/v1/tickets/{ticket_id}/whatsapp/template"): {"name": "ticket_update"},
    ("post", "/api/v1/whatsapp/conversations/{conversation_id}/messages"): {"text": "oi"},
    ("post", "/api/v1/whatsapp/conversations/{conversation_id}/handoff"): {"note": "x"},
}


def _call(client: Any, method: str, url: str, op: dict[str, Any]) -> Any:
    template = op.get("_path", "")
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return client.client.post(url, {"files": [SimpleUploadedFile("x.txt", b"x")]})
    body = BODIES.get((method, template))
    if body is None and "{" in template and method in {"post", "patch", "put"} and content:
        pytest.fail(f"add a valid body for {method.upper()} {template} to BODIES")
    return getattr(client, method)(url, body)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = json.loads(Client().get("/api/v1/openapi.json").content)
    ops = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                ops.append((method, path, {**op, "_path": path}))
    return ops


def test_other_tenant_gets_404_or_nothing(tenant: Tenant, other_tenant: Tenant,
                                          django_capture_on_commit_callbacks: Callable) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        objects = build_objects(tenant)
    intruder = other_tenant.client
    checked = 0
    for method, path, _op in _operations():
        params = re.findall(r"{(\w+)}", path)
        unknown = [p for p in params if p not in objects]
        assert not unknown, f"add a factory for {unknown} ({method.upper()} {path})"
        url = path
        for p in params:
            url = url.replace("{" + p + "}", str(objects[p]))
        response = _call(intruder, method, url, _op)
        content = response.content.decode(errors="replace") if not response.streaming else ""
        assert MARKER not in content, f"{method.upper()} {url} leaked another tenant's data"
        assert MARKER.lower() not in content, f"{method.upper()} {url} leaked a tag"
        if params:
            assert response.status_code == 404, (
                f"{method.upper()} {url} answered {response.status_code} to another tenant: "
                f"{content[:200]}"
            )
        checked += 1
    assert checked >= 10


def test_owner_sees_its_own_objects(tenant: Tenant,
                                    django_capture_on_commit_callbacks: Callable) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        objects = build_objects(tenant)
    assert tenant.client.get(f"/api/v1/tickets/{objects['ticket_id']}").status_code == 200
    assert MARKER in tenant.client.get("/api/v1/tickets").content.decode()
