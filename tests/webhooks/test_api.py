"""The webhook REST endpoints: subscriptions, the delivery log, redelivery, tenancy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from atende.webhooks.models import DeliveryState, WebhookDelivery
from tests.conftest import Tenant
from tests.fakes.http_receiver import HttpReceiver
from tests.webhooks.conftest import open_ticket, subscribe

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


def test_subscribing_returns_the_secret_once(tenant: Tenant, receiver: HttpReceiver) -> None:
    created = subscribe(tenant.client, receiver.url, ["ticket.created", "ticket.created",
                                                      "message.created"])
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["message.created", "ticket.created"]
    assert created["is_active"] is True

    listed = tenant.client.get("/api/v1/webhooks").json()
    assert [s["id"] for s in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert created["secret"] not in tenant.client.get("/api/v1/webhooks").content.decode()


def test_secrets_differ_per_subscription(tenant: Tenant, receiver: HttpReceiver) -> None:
    a = subscribe(tenant.client, receiver.url, ["ticket.created"])
    b = subscribe(tenant.client, receiver.url, ["ticket.created"])
    assert a["secret"] != b["secret"]


@pytest.mark.parametrize("payload", [
    {"url": "http://127.0.0.1:9/hook", "events": ["ticket.exploded"]},
    {"url": "http://127.0.0.1:9/hook", "events": []},
    {"url": "ftp://example.com/hook", "events": ["ticket.created"]},
])
def test_invalid_subscriptions_are_400(tenant: Tenant, payload: dict[str, Any]) -> None:
    response = tenant.client.post("/api/v1/webhooks", payload)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_delivery_log_lists_newest_first(tenant: Tenant, receiver: HttpReceiver,
                                         django_capture_on_commit_callbacks: Capture) -> None:
    sub = subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        tickets = [open_ticket(tenant.client, title=f"T{n}") for n in range(3)]
    log = tenant.client.get(f"/api/v1/webhooks/{sub['id']}/deliveries").json()
    assert [e["event_type"] for e in log] == ["ticket.created"] * 3
    assert [e["state"] for e in log] == ["succeeded"] * 3
    by_id = {str(d.delivery_id): d for d in WebhookDelivery.objects.all()}
    ticket_ids = [by_id[e["delivery_id"]].payload["id"] for e in log]
    assert ticket_ids == [t["id"] for t in reversed(tickets)]
    assert log[0]["attempts"] == 1 and log[0]["last_status_code"] == 200

    limited = tenant.client.get(f"/api/v1/webhooks/{sub['id']}/deliveries",
                                {"limit": 2}).json()
    assert [e["id"] for e in limited] == [e["id"] for e in log[:2]]


def test_redeliver_sends_a_failed_delivery_again(
        tenant: Tenant, receiver: HttpReceiver, settings: Any,
        django_capture_on_commit_callbacks: Capture) -> None:
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 0  # the first failure is final
    receiver.respond_with(500)
    sub = subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.state == DeliveryState.FAILED

    url = f"/api/v1/webhooks/{sub['id']}/deliveries/{delivery.pk}/redeliver"
    with django_capture_on_commit_callbacks(execute=True):
        response = tenant.client.post(url)
    assert response.status_code == 202
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 2)
    assert len(receiver.requests) == 2

    again = tenant.client.post(url)
    assert again.status_code == 400
    assert again.json()["error"]["field"] == "delivery_id"


def test_another_tenant_cannot_see_redeliver_or_delete(
        tenant: Tenant, other_tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    receiver.respond_with(500)
    sub = subscribe(tenant.client, receiver.url, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    [delivery] = WebhookDelivery.objects.all()
    intruder = other_tenant.client

    assert intruder.get("/api/v1/webhooks").json() == []
    base = f"/api/v1/webhooks/{sub['id']}"
    for response in (
        intruder.get(f"{base}/deliveries"),
        intruder.post(f"{base}/deliveries/{delivery.pk}/redeliver"),
        intruder.delete(base),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    # Its own subscription id with the other tenant's delivery id: still nothing.
    own = subscribe(intruder, receiver.url, ["ticket.created"])
    response = intruder.post(f"/api/v1/webhooks/{own['id']}/deliveries/{delivery.pk}/redeliver")
    assert response.status_code == 404
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.RETRYING, 1)
    assert len(receiver.requests) == 1


def test_deleting_a_subscription_stops_its_deliveries(
        tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    sub = subscribe(tenant.client, receiver.url, ["ticket.created"])
    assert tenant.client.delete(f"/api/v1/webhooks/{sub['id']}").status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    assert receiver.requests == []
    assert tenant.client.get("/api/v1/webhooks").json() == []


def test_webhook_endpoints_need_an_api_key(client: Any) -> None:
    response = client.get("/api/v1/webhooks")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
