"""API keys (shown once, revoked), webhook subscriptions with their delivery log, and the
channels screen (create/edit the API channel, (de)activate, test connection)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.api.channels import create_api_channel
from atende.tenancy.api_keys import authenticate_api_key
from atende.tenancy.models import ApiKey
from atende.webhooks.models import WebhookDelivery, WebhookSubscription
from atende.webhooks.services import create_subscription
from tests.conftest import Tenant
from tests.fakes.http_receiver import HttpReceiver

pytestmark = pytest.mark.django_db
SECRET = re.compile(r"<code data-secret>([^<]+)</code>")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def test_api_key_is_shown_once_works_and_can_be_revoked(tenant: Tenant,
                                                        admin_client: Client) -> None:
    created = admin_client.post("/settings/api-keys/", {"name": "ERP"},
                                follow=True).content.decode()
    (raw,) = SECRET.findall(created)
    key = authenticate_api_key(raw)
    assert key is not None and key.organization_id == tenant.org.pk and key.name == "ERP"
    # Only the prefix is ever listed again.
    listing = admin_client.get("/settings/api-keys/").content.decode()
    assert raw not in listing and f"atk_{key.prefix}" in listing

    assert admin_client.post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 302
    assert authenticate_api_key(raw) is None
    assert "Revoked" in admin_client.get("/settings/api-keys/").content.decode()


def test_api_keys_of_another_organisation(tenant: Tenant, other_tenant: Tenant,
                                          admin_client: Client) -> None:
    assert admin_client.post(f"/settings/api-keys/{other_tenant.key.pk}/revoke/").status_code \
        == 404
    assert ApiKey.objects.get(pk=other_tenant.key.pk).is_active
    assert other_tenant.key.prefix not in admin_client.get("/settings/api-keys/").content.decode()


def test_webhook_subscription_and_delivery_log(tenant: Tenant, other_tenant: Tenant,
                                               admin_client: Client) -> None:
    page = admin_client.post("/settings/webhooks/", {
        "url": "https://hooks.example.com/atende", "events": ["ticket.created"],
        "description": "CRM"}, follow=True).content.decode()
    (secret,) = SECRET.findall(page)
    sub = WebhookSubscription.objects.get(organization=tenant.org)
    assert sub.secret == secret and sub.events == ["ticket.created"]
    assert secret not in admin_client.get("/settings/webhooks/").content.decode()

    WebhookDelivery.objects.create(organization=tenant.org, subscription=sub,
                                   event_type="ticket.created", payload={}, attempts=2,
                                   last_status_code=503, last_error="upstream down")
    log = admin_client.get(f"/settings/webhooks/{sub.pk}/deliveries/").content.decode()
    assert "HTTP 503" in log and "upstream down" in log

    admin_client.post(f"/settings/webhooks/{sub.pk}/toggle/")
    sub.refresh_from_db()
    assert not sub.is_active

    foreign, _secret = create_subscription(other_tenant.org.pk, "https://x.example.com",
                                           ["ticket.created"])
    assert admin_client.get(f"/settings/webhooks/{foreign.pk}/deliveries/").status_code == 404
    assert admin_client.post(f"/settings/webhooks/{foreign.pk}/toggle/").status_code == 404


def test_bad_webhook_input_is_a_form_error(tenant: Tenant, admin_client: Client) -> None:
    response = admin_client.post("/settings/webhooks/", {"url": "not a url", "events": ["nope"]})
    assert response.status_code == 200
    assert not WebhookSubscription.objects.exists()


def test_create_and_edit_an_api_channel(tenant: Tenant, admin_client: Client,
                                        receiver: HttpReceiver) -> None:
    assert "New API channel" in admin_client.get("/settings/channels/").content.decode()
    page = admin_client.post("/settings/channels/new/api/", {
        "name": "ERP", "service": tenant.service.pk, "webhook_url": receiver.url,
    }, follow=True).content.decode()
    raw_key, signing_secret = SECRET.findall(page)
    channel = Channel.objects.get(organization=tenant.org)
    assert channel.secrets["signing_secret"] == signing_secret
    key = authenticate_api_key(raw_key)
    assert key is not None and key.channel_id == channel.pk

    admin_client.post(f"/settings/channels/{channel.pk}/", {
        "name": "ERP 2", "service": "", "webhook_url": receiver.url})
    channel.refresh_from_db()
    assert (channel.name, channel.service_id) == ("ERP 2", None)


def test_test_connection_reports_the_connectors_answer(tenant: Tenant, admin_client: Client,
                                                       receiver: HttpReceiver) -> None:
    channel, _key, _secret = create_api_channel(tenant.org, name="ERP",
                                                webhook_url=receiver.url)
    receiver.respond_with(204)
    ok = admin_client.post(f"/settings/channels/{channel.pk}/test/", follow=True)
    assert "connection works" in ok.content.decode()
    assert len(receiver.requests) == 1
    receiver.respond_with(500)
    failed = admin_client.post(f"/settings/channels/{channel.pk}/test/", follow=True)
    assert "connection failed" in failed.content.decode()


def test_channel_toggle_and_isolation(tenant: Tenant, other_tenant: Tenant,
                                      admin_client: Client) -> None:
    mine, _k, _s = create_api_channel(tenant.org, name="Mine")
    theirs, _k2, _s2 = create_api_channel(other_tenant.org, name="Theirs")
    admin_client.post(f"/settings/channels/{mine.pk}/toggle/")
    mine.refresh_from_db()
    assert not mine.is_active
    for url in (f"/settings/channels/{theirs.pk}/", f"/settings/channels/{theirs.pk}/toggle/",
                f"/settings/channels/{theirs.pk}/test/"):
        assert admin_client.post(url).status_code == 404
    listing = admin_client.get("/settings/channels/").content.decode()
    assert "Mine" in listing and "Theirs" not in listing


def test_unknown_channel_kind_is_404(admin_client: Client) -> None:
    assert admin_client.get("/settings/channels/new/carrier-pigeon/").status_code == 404


def test_private_webhook_destinations_are_refused(admin_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ALLOW_PRIVATE_WEBHOOKS = False
    response = admin_client.post("/settings/webhooks/", {
        "url": "http://127.0.0.1:8000/hook", "events": ["ticket.created"]})
    assert "cannot receive webhooks" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_settings_forms_need_the_csrf_token(tenant: Tenant) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant.admin)
    assert client.post("/settings/api-keys/", {"name": "x"}).status_code == 403
    assert not ApiKey.objects.filter(name="x").exists()
    page = client.get("/settings/api-keys/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_api_key_post_redirects_and_a_reload_neither_shows_nor_creates_another(
        tenant: Tenant, admin_client: Client) -> None:
    before = ApiKey.objects.for_org(tenant.org).count()
    response = admin_client.post("/settings/api-keys/", {"name": "ERP"})
    assert response.status_code == 302 and response["Location"] == "/settings/api-keys/"
    (raw,) = SECRET.findall(admin_client.get("/settings/api-keys/").content.decode())
    assert authenticate_api_key(raw) is not None
    assert SECRET.findall(admin_client.get("/settings/api-keys/").content.decode()) == []
    assert ApiKey.objects.for_org(tenant.org).count() == before + 1
    # Stashed encrypted: the session store never holds the raw key.
    assert raw not in str(dict(admin_client.session))


def test_webhook_secret_is_shown_once_after_the_redirect(tenant: Tenant,
                                                         admin_client: Client) -> None:
    response = admin_client.post("/settings/webhooks/", {
        "url": "https://hooks.example.com/a", "events": ["ticket.created"]})
    assert response.status_code == 302
    (secret,) = SECRET.findall(admin_client.get(response["Location"]).content.decode())
    assert WebhookSubscription.objects.get(organization=tenant.org).secret == secret
    assert SECRET.findall(admin_client.get("/settings/webhooks/").content.decode()) == []
    assert WebhookSubscription.objects.filter(organization=tenant.org).count() == 1


def test_channel_secrets_are_shown_once_after_the_redirect(
        tenant: Tenant, other_tenant: Tenant, admin_client: Client,
        receiver: HttpReceiver) -> None:
    response = admin_client.post("/settings/channels/new/api/", {
        "name": "ERP", "service": tenant.service.pk, "webhook_url": receiver.url})
    channel = Channel.objects.get(organization=tenant.org)
    assert response.status_code == 302
    assert response["Location"] == f"/settings/channels/{channel.pk}/created/"
    first = admin_client.get(response["Location"]).content.decode()
    raw_key, signing_secret = SECRET.findall(first)
    assert authenticate_api_key(raw_key) is not None
    assert channel.secrets["signing_secret"] == signing_secret
    again = admin_client.get(response["Location"]).content.decode()
    assert SECRET.findall(again) == [] and "cannot be shown again" in again
    assert Channel.objects.filter(organization=tenant.org).count() == 1
    assert ApiKey.objects.filter(channel=channel).count() == 1
    stranger = Client()
    stranger.force_login(other_tenant.admin)
    assert stranger.get(response["Location"]).status_code == 404
