"""XOAUTH2 logins at a real Dovecot whose oauth2 passdb checks access tokens at the fake
provider's introspection endpoint: IMAP and POP3 with tokens from the consent flow, the
renewal of an expired token, and a refused token as an auth failure."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import translation

from atende.channels.models import Channel
from atende.connectors.email import consent, oauth
from atende.connectors.email.checks import check_settings
from atende.connectors.email.client import MailError, open_imap, open_pop3
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.models import MailboxState
from atende.connectors.email.polling import poll_channel
from atende.tickets.models import Ticket
from tests.conftest import REQUIRE_SERVICES, Tenant
from tests.connectors.email.conftest import customer_mail, make_email_channel
from tests.fakes import dovecot as dovecot_module
from tests.fakes.dovecot import Dovecot
from tests.fakes.oauth2_server import FakeOAuth2
from tests.fakes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db
REDIRECT_URI = "http://127.0.0.1:8000/settings/channels/oauth/callback/"


@pytest.fixture
def user() -> str:
    return f"box-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def provider(user: str) -> Iterator[FakeOAuth2]:
    with FakeOAuth2(user=user) as server:
        yield server


@pytest.fixture
def oauth_dovecot(provider: FakeOAuth2) -> Iterator[Dovecot]:
    if not dovecot_module.available():
        if REQUIRE_SERVICES:
            pytest.fail("Dovecot is not installed or we are not root (ATENDE_REQUIRE_SERVICES=1)")
        pytest.skip("Dovecot is not installed here (apt-get install dovecot-imapd dovecot-pop3d)")
    with Dovecot(oauth2_introspection_url=provider.introspect_url) as server:
        yield server


def connected_channel(tenant: Tenant, server: Dovecot, provider: FakeOAuth2,
                      protocol: str = "imap", **settings: Any) -> Channel:
    """A Microsoft-style channel on the test Dovecot, connected through the consent flow
    (the browser's part played by httpx; the in_username comes from the id_token)."""
    channel = make_email_channel(
        tenant, auth="oauth2", oauth_provider="microsoft", oauth_client_id=provider.client_id,
        oauth_authorize_url=provider.authorize_url, oauth_token_url=provider.token_url,
        in_protocol=protocol, in_host=server.host, in_security="none",
        in_port=server.pop3_port if protocol == "pop3" else server.imap_port, **settings)
    channel.secrets = {"oauth_client_secret": provider.client_secret}
    channel.save()
    session: dict[str, Any] = {}
    answer = httpx.get(consent.begin(session, channel, REDIRECT_URI), follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    connected = consent.complete(session, tenant.org.pk, params)
    assert connected.account == provider.user
    return connected.channel


def test_imap_login_with_the_consented_token_takes_mail_in(
        tenant: Tenant, oauth_dovecot: Dovecot, provider: FakeOAuth2) -> None:
    oauth_dovecot.append(provider.user, customer_mail(subject="via OAuth2"))
    channel = connected_channel(tenant, oauth_dovecot, provider)
    report = poll_channel(channel.pk)
    assert report is not None and len(report.receipts) == 1
    assert Ticket.objects.get().subject == "via OAuth2"
    assert provider.introspections >= 1  # Dovecot asked the provider about the token
    assert "method=XOAUTH2" in oauth_dovecot.log()


def test_an_expired_access_token_is_renewed_and_the_login_retried(
        tenant: Tenant, oauth_dovecot: Dovecot, provider: FakeOAuth2) -> None:
    channel = connected_channel(tenant, oauth_dovecot, provider)
    provider.expire_access_tokens()  # revoked early: our clock still thinks it is valid
    oauth_dovecot.append(provider.user, customer_mail(subject="depois de expirar"))
    assert len(poll_channel(channel.pk).receipts) == 1  # type: ignore[union-attr]
    assert provider.token_requests[-1]["grant_type"] == "refresh_token"
    state = MailboxState.objects.get(channel=channel)
    assert state.last_error == ""


def test_short_lived_tokens_are_refreshed_before_login(
        tenant: Tenant, oauth_dovecot: Dovecot, provider: FakeOAuth2) -> None:
    provider.expires_in = 2
    channel = connected_channel(tenant, oauth_dovecot, provider)
    time.sleep(2.1)  # the consented access token is now dead at the provider too
    refreshes = sum(r["grant_type"] == "refresh_token" for r in provider.token_requests)
    oauth_dovecot.append(provider.user, customer_mail(subject="token novo"))
    checked = provider.introspections
    assert len(poll_channel(channel.pk).receipts) == 1  # type: ignore[union-attr]
    assert sum(r["grant_type"] == "refresh_token" for r in provider.token_requests) == \
        refreshes + 1
    assert provider.introspections == checked + 1  # renewed before, not after, a failure


def test_pop3_logs_in_with_xoauth2(tenant: Tenant, oauth_dovecot: Dovecot,
                                   provider: FakeOAuth2) -> None:
    oauth_dovecot.append(provider.user, customer_mail(subject="via POP3"))
    channel = connected_channel(tenant, oauth_dovecot, provider, protocol="pop3")
    report = poll_channel(channel.pk)
    assert report is not None and len(report.receipts) == 1
    assert Ticket.objects.get().subject == "via POP3"
    assert "pop3-login: Info: Login" in oauth_dovecot.log()


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_a_refused_token_is_an_auth_failure_not_a_hang(
        tenant: Tenant, oauth_dovecot: Dovecot, provider: FakeOAuth2, protocol: str) -> None:
    channel = connected_channel(tenant, oauth_dovecot, provider, protocol=protocol)
    cfg = EmailSettings.of(channel)
    opener = open_pop3 if protocol == "pop3" else open_imap
    started = time.monotonic()
    with pytest.raises(MailError) as caught:
        opener(cfg.inbound, "not-a-token")
    assert caught.value.step == "auth"
    assert time.monotonic() - started < 5
    # And the real token is accepted on the same server.
    opener(cfg.inbound, oauth.token_for(channel))


def test_a_revoked_consent_is_recorded_on_the_mailbox(
        tenant: Tenant, oauth_dovecot: Dovecot, provider: FakeOAuth2) -> None:
    channel = connected_channel(tenant, oauth_dovecot, provider)
    provider.expire_access_tokens()
    provider.revoke_refresh_tokens()
    assert poll_channel(channel.pk) is None
    error = MailboxState.objects.get(channel=channel).last_error
    assert error.startswith("auth:") and "refresh token is invalid" in error


def test_test_settings_signs_in_with_the_token_on_both_sides(
        tenant: Tenant, oauth_dovecot: Dovecot, provider: FakeOAuth2) -> None:
    with SmtpSink() as sink:
        channel = connected_channel(tenant, oauth_dovecot, provider, smtp_host=sink.host,
                                    smtp_port=sink.port, smtp_security="none")
        sink.handler.oauth = (provider.user, oauth.token_for(channel))
        result = check_settings(channel)
        assert result.ok, result.message
        assert len(sink.deliveries) == 1
        provider.expire_access_tokens()
        provider.revoke_refresh_tokens()
        channel.secrets = {**channel.secrets, "oauth_expires_at": time.time() - 1}
        channel.save()
        with translation.override("en"):
            refused = check_settings(channel)
        assert not refused.ok and refused.step == "imap.auth"
        assert "OAuth2 sign-in" in refused.message and "connect the mailbox again" in \
            refused.message
