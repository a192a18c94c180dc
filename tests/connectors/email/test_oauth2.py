"""OAuth2 (Microsoft 365 / Gmail): the XOAUTH2 string, token refresh against a local fake
token endpoint, and SMTP XOAUTH2 login with the refreshed token."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from atende.channels.models import Channel
from atende.connectors.email import oauth
from atende.connectors.email.client import MailError, xoauth2, xoauth2_base64
from atende.connectors.email.compose import Draft
from atende.connectors.email.outbound import send_automatic
from tests.conftest import Tenant
from tests.connectors.email.conftest import make_email_channel
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.smtp_sink import SmtpSink


@pytest.fixture
def token_endpoint() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def oauth_channel(tenant: Tenant, token_url: str, **settings: object) -> Channel:
    channel = make_email_channel(tenant, auth="oauth2", oauth_provider="microsoft",
                                 oauth_token_url=token_url, oauth_client_id="client-1",
                                 **settings)
    channel.secrets = {"oauth_refresh_token": "refresh-1", "oauth_client_secret": "cs"}
    channel.save()
    return channel


def test_xoauth2_string_is_the_documented_one() -> None:
    assert xoauth2("a@b.com", "tok") == "user=a@b.com\x01auth=Bearer tok\x01\x01"
    assert base64.b64decode(xoauth2_base64("a@b.com", "tok")) == \
        b"user=a@b.com\x01auth=Bearer tok\x01\x01"


def test_token_is_refreshed_stored_and_reused(tenant: Tenant,
                                              token_endpoint: HttpReceiver) -> None:
    token_endpoint.respond_with((200, {"access_token": "at-1", "expires_in": 3600,
                                       "refresh_token": "refresh-2"}))
    channel = oauth_channel(tenant, token_endpoint.url)
    assert oauth.token_for(channel) == "at-1"
    form = parse_qs(token_endpoint.requests[0].body.decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["refresh-1"]
    assert form["client_id"] == ["client-1"] and form["client_secret"] == ["cs"]
    channel.refresh_from_db()
    assert channel.secrets["oauth_refresh_token"] == "refresh-2"  # rotated
    assert "at-1" not in channel.encrypted_secrets
    assert oauth.token_for(channel) == "at-1"
    assert len(token_endpoint.requests) == 1  # still valid: no second call


def test_expired_token_is_refreshed_again(tenant: Tenant,
                                          token_endpoint: HttpReceiver) -> None:
    token_endpoint.respond_with((200, {"access_token": "at-new", "expires_in": 3600}))
    channel = oauth_channel(tenant, token_endpoint.url)
    channel.secrets = {**channel.secrets, "oauth_access_token": "at-old",
                       "oauth_expires_at": time.time() + 30}
    channel.save()
    assert oauth.token_for(channel) == "at-new"


def test_refused_refresh_is_an_auth_error_with_the_reason(
        tenant: Tenant, token_endpoint: HttpReceiver) -> None:
    token_endpoint.respond_with((400, {"error": "invalid_grant",
                                       "error_description": "AADSTS70008: expired"}))
    channel = oauth_channel(tenant, token_endpoint.url)
    with pytest.raises(MailError) as caught:
        oauth.token_for(channel)
    assert caught.value.step == "auth" and "AADSTS70008" in caught.value.detail


def test_password_channel_has_no_token(email_channel: Channel) -> None:
    assert oauth.token_for(email_channel) == ""


def test_smtp_logs_in_with_xoauth2_using_the_refreshed_token(
        tenant: Tenant, token_endpoint: HttpReceiver) -> None:
    token_endpoint.respond_with((200, {"access_token": "at-smtp", "expires_in": 3600}))
    with SmtpSink() as sink:
        sink.handler.oauth = ("suporte@example.com", "at-smtp")
        channel = oauth_channel(tenant, token_endpoint.url, smtp_host=sink.host,
                                smtp_port=sink.port, smtp_security="none",
                                smtp_username="suporte@example.com")
        result = send_automatic(channel, Draft(to="maria@example.com", subject="x", text="y"))
        assert result.ok, result.error
        assert len(sink.deliveries) == 1
        sink.handler.oauth = ("suporte@example.com", "another-token")
        refused = send_automatic(channel, Draft(to="joao@example.com", subject="x", text="y"))
        assert not refused.ok and refused.error.startswith("auth")
