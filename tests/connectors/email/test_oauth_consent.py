"""The Microsoft 365 / Gmail consent on the e-mail channel screen, against a fake OAuth2
provider on 127.0.0.1: authorize → callback → code exchange with PKCE → tokens stored
encrypted; state checks, denial, provider errors, tenant isolation, secrets never shown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client

from atende.channels.models import Channel, ChannelKind
from atende.connectors.email import oauth
from atende.connectors.email.client import MailError
from atende.connectors.email.consent import SESSION_KEY
from tests.conftest import Tenant
from tests.fakes.oauth2_server import FakeOAuth2

pytestmark = pytest.mark.django_db
MAILBOX = "suporte@example.com"


@pytest.fixture
def provider() -> Iterator[FakeOAuth2]:
    with FakeOAuth2(user=MAILBOX) as server:
        yield server


def form_data(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Suporte 365", "service": tenant.service.pk, "address": MAILBOX,
        "in_protocol": "imap", "in_port": 993, "in_security": "ssl", "in_username": "",
        "in_folder": "INBOX", "smtp_port": 587, "smtp_security": "starttls",
        "poll_seconds": 60, "reopen_closed": "on", "auto_daily_cap": 3,
        "sign_in": "microsoft", "oauth_client_id": "client-1",
        "oauth_client_secret": "client-secret-1", "oauth_tenant": "contoso.onmicrosoft.com",
        **overrides,
    }


def oauth_channel(client: Client, tenant: Tenant, provider: FakeOAuth2,
                  **overrides: Any) -> Channel:
    """An e-mail channel set up on the screen, its endpoints pointed at the fake."""
    created = client.post("/settings/channels/new/email/", form_data(tenant, **overrides))
    channel = Channel.objects.filter(organization=tenant.org, kind=ChannelKind.EMAIL).first()
    assert channel is not None, created.content.decode()
    channel.settings = {**channel.settings, "oauth_authorize_url": provider.authorize_url,
                        "oauth_token_url": provider.token_url}
    channel.save()
    return channel


def start(client: Client, channel: Channel) -> str:
    """Click Connect; the provider's authorize URL we are sent to."""
    response = client.post(f"/settings/channels/{channel.pk}/oauth/connect/")
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


def consent(authorize: str) -> str:
    """The browser at the provider: its redirect back to us, as a local path + query."""
    answer = httpx.get(authorize, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.path == "/settings/channels/oauth/callback/"
    return f"{back.path}?{back.query}"


def test_consent_stores_the_tokens_encrypted_and_shows_the_account(
        admin_client: Client, tenant: Tenant, provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider)
    # Left blank: the provider's servers are filled in.
    assert channel.settings["in_host"] == "outlook.office365.com"
    assert channel.settings["smtp_host"] == "smtp.office365.com"
    authorize = start(admin_client, channel)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(provider.authorize_url)
    assert query["response_type"] == ["code"] and query["client_id"] == ["client-1"]
    assert query["code_challenge_method"] == ["S256"]
    assert "https://outlook.office.com/IMAP.AccessAsUser.All" in query["scope"][0]
    assert {"offline_access", "openid", "email"} <= set(query["scope"][0].split())
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/settings/channels/oauth/callback/"]

    done = admin_client.get(consent(authorize), follow=True)
    page = done.content.decode()
    assert done.redirect_chain[-1][0] == f"/settings/channels/{channel.pk}/"
    assert f"connected as {MAILBOX}" in page and 'data-oauth-status="connected"' in page

    exchange = provider.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"]
    channel.refresh_from_db()
    refresh_token = channel.secrets["oauth_refresh_token"]
    assert refresh_token in provider.refresh_tokens
    assert channel.secrets["oauth_access_token"] in provider.access_tokens
    assert refresh_token not in channel.encrypted_secrets
    assert channel.settings["oauth_account"] == MAILBOX
    assert channel.settings["in_username"] == MAILBOX  # the mailbox XOAUTH2 names
    # The tokens work without another consent.
    assert oauth.token_for(channel) == channel.secrets["oauth_access_token"]
    # And nothing secret is shown back on the screen.
    for secret in ("client-secret-1", refresh_token, channel.secrets["oauth_access_token"]):
        assert secret not in page


def test_google_asks_for_offline_access_and_a_fresh_consent(
        admin_client: Client, tenant: Tenant, provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider, sign_in="google", oauth_tenant="")
    assert channel.settings["in_host"] == "imap.gmail.com"
    query = parse_qs(urlsplit(start(admin_client, channel)).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["scope"][0].split()[0] == "https://mail.google.com/"


def test_a_wrong_state_is_refused_and_the_code_not_spent(
        admin_client: Client, tenant: Tenant, provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider)
    callback = consent(start(admin_client, channel))
    forged = callback.replace("state=", "state=x")
    page = admin_client.get(forged, follow=True).content.decode()
    assert "unknown or expired" in page
    assert provider.token_requests == []
    channel.refresh_from_db()
    assert "oauth_refresh_token" not in channel.secrets


def test_a_state_is_good_once_and_only_in_the_session_that_started_it(
        admin_client: Client, tenant: Tenant, provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider)
    callback = consent(start(admin_client, channel))
    other_browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    other_browser.force_login(tenant.admin)
    assert "unknown or expired" in other_browser.get(callback, follow=True).content.decode()
    assert provider.token_requests == []

    assert "connected as" in admin_client.get(callback, follow=True).content.decode()
    replay = admin_client.get(callback, follow=True).content.decode()
    assert "unknown or expired" in replay
    assert len(provider.token_requests) == 1


def test_a_denied_consent_is_a_clear_message(
        admin_client: Client, tenant: Tenant, provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider)
    provider.deny_next()
    done = admin_client.get(consent(start(admin_client, channel)), follow=True)
    assert done.redirect_chain[-1][0] == f"/settings/channels/{channel.pk}/"
    page = done.content.decode()
    assert "Access was not granted" in page and 'data-oauth-status="disconnected"' in page
    channel.refresh_from_db()
    assert "oauth_refresh_token" not in channel.secrets


def test_a_refused_code_exchange_names_the_providers_reason(
        admin_client: Client, tenant: Tenant, provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider,
                            oauth_client_secret="a-wrong-secret")
    done = admin_client.get(consent(start(admin_client, channel)), follow=True)
    assert done.status_code == 200
    assert "client authentication failed" in done.content.decode()
    channel.refresh_from_db()
    assert "oauth_refresh_token" not in channel.secrets


def test_a_missing_client_id_or_secret_is_asked_for(admin_client: Client,
                                                    tenant: Tenant) -> None:
    page = admin_client.post("/settings/channels/new/email/", form_data(
        tenant, oauth_client_id="", oauth_client_secret="")).content.decode()
    assert "Enter the application (client) ID" in page
    assert "Enter the client secret" in page
    assert not Channel.objects.filter(organization=tenant.org).exists()


def test_another_organisation_cannot_start_or_finish_a_consent(
        admin_client: Client, tenant: Tenant, other_tenant: Tenant,
        provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider)
    intruder = Client(HTTP_ACCEPT_LANGUAGE="en")
    intruder.force_login(other_tenant.admin)
    assert intruder.post(f"/settings/channels/{channel.pk}/oauth/connect/").status_code == 404
    assert intruder.get(f"/settings/channels/{channel.pk}/").status_code == 404

    # Even holding the pending state of another organisation's consent (here copied into
    # the intruder's session), the callback attaches nothing to that channel.
    callback = consent(start(admin_client, channel))
    session = intruder.session
    session[SESSION_KEY] = admin_client.session[SESSION_KEY]
    session.save()
    done = intruder.get(callback, follow=True)
    assert done.redirect_chain[-1][0] == "/settings/channels/"
    assert "another organisation" in done.content.decode()
    assert provider.token_requests == []
    channel.refresh_from_db()
    assert "oauth_refresh_token" not in channel.secrets


def test_a_new_app_registration_drops_the_old_tokens(
        admin_client: Client, tenant: Tenant, provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider)
    admin_client.get(consent(start(admin_client, channel)))
    channel.refresh_from_db()
    assert channel.secrets["oauth_refresh_token"]
    edit = admin_client.get(f"/settings/channels/{channel.pk}/").content.decode()
    assert "client-secret-1" not in edit and channel.secrets["oauth_refresh_token"] not in edit

    data = form_data(tenant, oauth_client_secret="", in_host="outlook.office365.com",
                     smtp_host="smtp.office365.com")
    admin_client.post(f"/settings/channels/{channel.pk}/", data)
    channel.refresh_from_db()
    assert channel.secrets["oauth_refresh_token"]  # same registration: kept
    assert channel.secrets["oauth_client_secret"] == "client-secret-1"  # blank keeps it
    admin_client.post(f"/settings/channels/{channel.pk}/", {**data, "oauth_client_id": "c2"})
    channel.refresh_from_db()
    assert "oauth_refresh_token" not in channel.secrets


def test_refresh_and_an_invalid_grant_at_the_fake_provider(
        admin_client: Client, tenant: Tenant, provider: FakeOAuth2) -> None:
    channel = oauth_channel(admin_client, tenant, provider)
    admin_client.get(consent(start(admin_client, channel)))
    channel.refresh_from_db()
    first = channel.secrets["oauth_access_token"]
    channel.secrets = {**channel.secrets, "oauth_expires_at": time.time() - 1}
    channel.save()
    renewed = oauth.token_for(channel)
    assert renewed != first and renewed in provider.access_tokens
    assert provider.token_requests[-1]["grant_type"] == "refresh_token"
    channel.refresh_from_db()
    assert channel.secrets["oauth_refresh_token"] in provider.refresh_tokens  # rotated

    provider.revoke_refresh_tokens()
    channel.secrets = {**channel.secrets, "oauth_expires_at": time.time() - 1}
    channel.save()
    with pytest.raises(MailError) as caught:
        oauth.token_for(channel)
    assert caught.value.step == "auth" and "refresh token is invalid" in caught.value.detail


def test_the_screen_explains_the_registration_in_portuguese(
        tenant: Tenant, provider: FakeOAuth2) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(tenant.admin)
    new = client.get("/settings/channels/new/email/").content.decode()
    assert "Registrando o aplicativo na Microsoft" in new
    assert "Salve o canal primeiro" in new
    assert "http://127.0.0.1:8000/settings/channels/oauth/callback/" in new
    channel = oauth_channel(client, tenant, provider)
    edit = client.get(f"/settings/channels/{channel.pk}/").content.decode()
    assert "Conectar com a Microsoft" in edit and "Ainda não conectado" in edit


def test_password_sign_in_still_needs_its_servers_and_user(admin_client: Client,
                                                           tenant: Tenant) -> None:
    page = admin_client.post("/settings/channels/new/email/", form_data(
        tenant, sign_in="password", in_password="pw", oauth_client_id="",
        oauth_client_secret="")).content.decode()
    assert page.count("This field is required.") == 3  # in_host, in_username, smtp_host
    assert not Channel.objects.filter(organization=tenant.org).exists()
