"""The SSRF guard on webhook subscriptions: refused when created (REST API and settings
screen, a 400 naming the reason), checked again on the address each delivery dials, and a
delivery log that shows a status and a short reason, never the receiver's body."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from atende.webhooks import services
from atende.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription
from tests.conftest import ApiClient, Tenant
from tests.fakes.dns import FakeDns
from tests.fakes.http_receiver import HttpReceiver
from tests.net.refused_urls import REFUSED_URLS
from tests.webhooks.conftest import open_ticket, subscribe

Capture = Any


@pytest.mark.parametrize(("url", "words"), REFUSED_URLS)
def test_the_rest_api_refuses_an_internal_or_malformed_url(
        ssrf_guard: None, tenant: Tenant, url: str, words: str) -> None:
    response = tenant.client.post("/api/v1/webhooks", {"url": url, "events": ["ticket.created"]})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == "url"
    assert error["message"].startswith("This address cannot receive webhooks: ")
    assert words in error["message"]
    assert not WebhookSubscription.objects.exists()


def test_the_reason_is_in_the_callers_language(ssrf_guard: None, tenant: Tenant) -> None:
    client = ApiClient(tenant.raw_key, language="pt-br")
    response = client.post("/api/v1/webhooks", {"url": "http://127.0.0.1/hook",
                                                 "events": ["ticket.created"]})
    assert response.json()["error"]["message"] == (
        "Este endereço não pode receber webhooks: 127.0.0.1 é um endereço de loopback.")


@pytest.mark.parametrize(("url", "words"), REFUSED_URLS)
def test_the_settings_screen_refuses_an_internal_or_malformed_url(
        ssrf_guard: None, admin_client: Client, url: str, words: str) -> None:
    response = admin_client.post("/settings/webhooks/", {"url": url,
                                                         "events": ["ticket.created"]},
                                 HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200  # the form again, with its error
    assert "This address cannot receive webhooks" in page
    assert not WebhookSubscription.objects.exists()


def test_a_name_rebound_after_saving_is_refused_at_delivery(
        ssrf_guard: None, tenant: Tenant, receiver: HttpReceiver,
        monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Capture) -> None:
    dns = FakeDns().install(monkeypatch)
    dns.answer("hooks.rebind.test", "8.8.8.8", "127.0.0.1")  # public when saved only
    port = receiver.url.rsplit(":", 1)[1]
    subscribe(tenant.client, f"http://hooks.rebind.test:{port}", ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.RETRYING and delivery.last_status_code is None
    assert "hooks.rebind.test resolves to 127.0.0.1" in delivery.last_error
    assert receiver.requests == []


def test_the_delivery_log_shows_the_status_never_the_body(
        tenant: Tenant, receiver: HttpReceiver, admin_client: Client,
        django_capture_on_commit_callbacks: Capture) -> None:
    subscribe(tenant.client, receiver.url, ["ticket.created"])
    receiver.respond_with((500, {"db_password": "inside-secret-42"}))
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(tenant.client)
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    sub = delivery.subscription
    log = admin_client.get(f"/settings/webhooks/{sub.pk}/deliveries/").content.decode()
    api_log = tenant.client.get(f"/api/v1/webhooks/{sub.pk}/deliveries").content.decode()
    assert "HTTP 500" in log and "inside-secret-42" not in log + api_log
    assert services.redeliver(delivery)
