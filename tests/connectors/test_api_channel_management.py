"""Managing API channels with an organisation key, and each channel's audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.channels.models import Channel, ChannelKind, InboundEvent, InboundStatus
from atende.tickets.models import Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import post_message
from tests.conftest import ApiClient, Tenant
from tests.connectors.conftest import ApiChannel, customer_message
from tests.fakes.http_receiver import HttpReceiver
from tests.test_json_input import DEEP_BODY, DEEP_CURSOR

pytestmark = pytest.mark.django_db


def create(api: ApiClient, **data: Any) -> dict[str, Any]:
    response = api.post("/api/v1/channels", {"name": "ERP", **data})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def test_create_returns_the_key_and_secret_once(
        tenant: Tenant, api: ApiClient, receiver: HttpReceiver) -> None:
    created = create(api, service_id=tenant.service.pk, webhook_url=receiver.url)

    assert created["kind"] == "api" and created["service_id"] == tenant.service.pk
    assert created["webhook_url"] == receiver.url and created["is_active"] is True
    assert created["api_key"].startswith("atk_") and created["signing_secret"]
    channel = Channel.objects.get(pk=created["id"])
    assert channel.secrets == {"signing_secret": created["signing_secret"]}
    posted = ApiClient(created["api_key"]).post(f"/api/v1/channels/{channel.pk}/messages",
                                                customer_message())
    assert posted.status_code == 201

    shown = api.get(f"/api/v1/channels/{channel.pk}").content.decode()
    listed = api.get("/api/v1/channels").content.decode()
    for text in (shown, listed):
        assert created["signing_secret"] not in text
        assert created["api_key"] not in text and "api_key" not in text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"webhook_url": "ftp://example.com/hook"}, "webhook_url"),
        ({"webhook_url": "not a url"}, "webhook_url"),
        ({"service_id": 999_999}, "service_id"),
    ],
)
def test_create_validates_fields(api: ApiClient, data: dict[str, Any], field: str) -> None:
    response = api.post("/api/v1/channels", {"name": "ERP", **data})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field


def test_private_webhook_url_is_refused_when_the_guard_is_on(
        api: ApiClient, settings: Any) -> None:
    settings.ALLOW_PRIVATE_WEBHOOKS = False
    response = api.post("/api/v1/channels", {"name": "ERP",
                                             "webhook_url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "webhook_url"


def test_another_organisations_service_is_refused(api: ApiClient, other_tenant: Tenant) -> None:
    response = api.post("/api/v1/channels", {"name": "ERP",
                                             "service_id": other_tenant.service.pk})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "service_id"


def test_list_shows_only_this_organisations_channels(
        api: ApiClient, other_tenant: Tenant) -> None:
    mine = create(api)
    create(other_tenant.client, name="Globex ERP")
    assert [c["id"] for c in api.get("/api/v1/channels").json()] == [mine["id"]]
    assert api.get("/api/v1/channels", {"kind": "email"}).json() == []


def test_patch_changes_name_url_service_and_state(
        tenant: Tenant, api: ApiClient, receiver: HttpReceiver) -> None:
    channel = create(api, service_id=tenant.service.pk)
    url = f"/api/v1/channels/{channel['id']}"

    changed = api.patch(url, {"name": "ERP novo", "webhook_url": receiver.url,
                              "is_active": False, "service_id": 0})
    assert changed.status_code == 200, changed.content
    assert changed.json() | {"created_at": None} == {
        "id": channel["id"], "kind": "api", "name": "ERP novo", "service_id": None,
        "is_active": False, "webhook_url": receiver.url, "created_at": None}
    assert api.patch(url, {"webhook_url": "javascript:alert(1)"}).json()["error"]["field"] \
        == "webhook_url"
    assert api.patch(url, {"webhook_url": ""}).json()["webhook_url"] == ""
    assert api.patch(url, {"name": "Só o nome"}).json()["is_active"] is False


def test_webhook_url_is_only_for_api_channels(tenant: Tenant, api: ApiClient) -> None:
    email = Channel.objects.create(organization=tenant.org, kind=ChannelKind.EMAIL, name="SAC")
    response = api.patch(f"/api/v1/channels/{email.pk}", {"webhook_url": "https://x.test/h"})
    assert response.status_code == 400
    renamed = api.patch(f"/api/v1/channels/{email.pk}", {"name": "Atendimento"}).json()
    assert renamed["name"] == "Atendimento" and renamed["webhook_url"] is None
    assert api.post(f"/api/v1/channels/{email.pk}/keys").status_code == 400


def test_new_key_works_and_can_revoke_the_old_ones(api: ApiClient) -> None:
    channel = create(api)
    messages = f"/api/v1/channels/{channel['id']}/messages"
    old = ApiClient(channel["api_key"])

    second = api.post(f"/api/v1/channels/{channel['id']}/keys")
    assert second.status_code == 201
    assert old.post(messages, customer_message()).status_code == 201
    third = api.post(f"/api/v1/channels/{channel['id']}/keys?revoke_existing=true").json()

    assert old.post(messages, customer_message()).status_code == 401
    assert ApiClient(second.json()["api_key"]).post(messages, customer_message()).status_code \
        == 401
    assert ApiClient(third["api_key"]).post(messages, customer_message()).status_code == 201


def test_another_organisations_channel_is_404_everywhere(
        api: ApiClient, other_tenant: Tenant) -> None:
    theirs = create(other_tenant.client)["id"]
    base = f"/api/v1/channels/{theirs}"
    assert api.get(base).status_code == 404
    assert api.patch(base, {"name": "x"}).status_code == 404
    assert api.post(f"{base}/keys").status_code == 404
    assert api.post(f"{base}/test").status_code == 404
    assert api.get(f"{base}/audit").status_code == 404
    assert Channel.objects.get(pk=theirs).name == "ERP"


def test_channel_key_cannot_manage_channels(api_channel: ApiChannel) -> None:
    base = f"/api/v1/channels/{api_channel.channel.pk}"
    assert api_channel.client.post("/api/v1/channels", {"name": "x"}).status_code == 403
    assert api_channel.client.get(base).status_code == 403
    assert api_channel.client.post(f"{base}/keys").status_code == 403


# --- audit ------------------------------------------------------------------------------------


def fill_log(api_channel: ApiChannel, receiver: HttpReceiver, capture: Any,
             monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """One processed and one quarantined event in; one sent and one failed reply out."""
    opened = api_channel.post(message_id="in-ok").json()
    monkeypatch.setattr("atende.tickets.services.inbound_events.ingest_many",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    assert api_channel.post(message_id="in-bad").status_code == 500
    monkeypatch.undo()
    ticket = Ticket.objects.get(pk=opened["ticket_id"])
    receiver.respond_with(200, (422, {"error": "no"}))
    with capture(execute=True):
        sent = post_message(ticket, Actor(user=api_channel.tenant.admin), text="ok")
    with capture(execute=True):
        failed = post_message(ticket, Actor(user=api_channel.tenant.admin), text="falha")
    return {"ticket": ticket.pk, "in_message": opened["message_id"], "sent": sent.pk,
            "failed": failed.pk}


def test_audit_lists_both_directions_newest_first(
        api_channel: ApiChannel, receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any) -> None:
    ids = fill_log(api_channel, receiver, django_capture_on_commit_callbacks, monkeypatch)
    url = f"/api/v1/channels/{api_channel.channel.pk}/audit"

    items = api_channel.tenant.client.get(url).json()["items"]

    assert [(i["direction"], i.get("provider_id") or i["id"]) for i in items] == [
        ("out", ids["failed"]), ("out", ids["sent"]), ("in", "in-bad"), ("in", "in-ok")]
    failed, sent, bad, ok = items
    assert failed["delivery_status"] == "failed" and "HTTP 422" in failed["failure_reason"]
    assert (failed["send_attempts"], failed["ticket_id"]) == (1, ids["ticket"])
    assert sent["delivery_status"] == "sent" and sent["sent_at"] is not None
    assert bad["status"] == "quarantined" and "RuntimeError: boom" in bad["error"]
    assert (bad["ticket_id"], bad["message_id"]) == (None, None)
    assert ok["status"] == "processed"
    assert (ok["ticket_id"], ok["message_id"]) == (ids["ticket"], ids["in_message"])

    inbound = api_channel.client.get(url, {"direction": "in"}).json()["items"]
    outbound = api_channel.client.get(url, {"direction": "out"}).json()["items"]
    assert [i["direction"] for i in inbound] == ["in", "in"]
    assert [i["id"] for i in outbound] == [ids["failed"], ids["sent"]]


def test_audit_pages_with_a_cursor_across_directions(
        api_channel: ApiChannel, receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any) -> None:
    fill_log(api_channel, receiver, django_capture_on_commit_callbacks, monkeypatch)
    url = f"/api/v1/channels/{api_channel.channel.pk}/audit"
    everything = api_channel.client.get(url).json()["items"]

    seen: list[Any] = []
    cursor = None
    while True:
        page = api_channel.client.get(url, {"limit": 1, **({"cursor": cursor} if cursor else {})})
        body = page.json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == everything and len(seen) == 4
    bad = api_channel.client.get(url, {"cursor": "garbage"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


def test_audit_costs_the_same_queries_for_any_page_size(api_channel: ApiChannel) -> None:
    for n in range(12):
        assert api_channel.post(message_id=f"m-{n}").status_code == 201
    url = f"/api/v1/channels/{api_channel.channel.pk}/audit"

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = api_channel.client.get(url, {"limit": limit})
        assert len(response.json()["items"]) == limit
        return len(ctx.captured_queries)

    assert queries(2) == queries(10)
    assert InboundEvent.objects.filter(status=InboundStatus.PROCESSED).count() == 12


def test_deep_cursor_on_the_channel_audit_is_400(api_channel: ApiChannel) -> None:
    url = f"/api/v1/channels/{api_channel.channel.pk}/audit"
    response = api_channel.client.get(url, {"cursor": DEEP_CURSOR})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "cursor"


def test_deep_api_body_is_400(api_channel: ApiChannel) -> None:
    response = api_channel.client.client.post(api_channel.messages_url, data=DEEP_BODY,
                                              content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
