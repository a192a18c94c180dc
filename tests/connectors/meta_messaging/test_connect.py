"""Connecting an Instagram or Messenger channel from the channel screen: Facebook Login
against the fake, the page subscribed, the tokens kept encrypted and renewed before they
expire, "test connection"; and the consent's ways to fail."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from atende.channels.models import Channel
from atende.channels.registry import get_connector
from atende.connectors.meta_messaging import consent as meta_consent
from tests.conftest import Tenant
from tests.connectors.meta_messaging.conftest import connect, consent, create
from tests.fakes.meta_graph import FakeMetaGraph

pytestmark = pytest.mark.django_db


def test_connect_subscribes_the_page_and_keeps_the_tokens_encrypted(
        admin_client: Client, tenant: Tenant, graph: FakeMetaGraph) -> None:
    channel = connect(admin_client, tenant, graph)
    assert channel.settings["page_id"] == graph.page_id
    assert channel.settings["account_id"] == graph.ig_id
    assert channel.settings["username"] == graph.ig_username
    assert "messages" in graph.subscribed and "message_echoes" in graph.subscribed
    stored = channel.secrets
    assert stored["user_token"] in graph.user_tokens
    # Long-lived: 60 days, not the short-lived token's hour.
    assert stored["user_token_expires_at"] > time.time() + 59 * 24 * 3600
    for secret in (graph.page_token, stored["user_token"], graph.app_secret):
        assert secret not in channel.encrypted_secrets
    page = admin_client.get(reverse("workspace:settings:channel_edit", args=[channel.pk]))
    text = page.content.decode()
    assert 'data-meta-status="connected"' in text and graph.page_name in text
    assert channel.secrets["verify_token"] in text


def test_test_connection_reports_the_page_and_its_subscription(
        ig_channel: Channel, graph: FakeMetaGraph) -> None:
    result = get_connector("instagram").test_connection(ig_channel)
    assert result.ok, result.message
    assert graph.page_name in result.message
    graph.subscribed = []
    result = get_connector("instagram").test_connection(ig_channel)
    assert not result.ok and result.step == "webhook"


def test_test_connection_of_a_channel_not_connected_yet(
        admin_client: Client, tenant: Tenant, graph: FakeMetaGraph) -> None:
    channel = create(admin_client, tenant, graph)
    result = get_connector("instagram").test_connection(channel)
    assert not result.ok and "Connect with Facebook" in result.message


def test_a_refusal_at_facebook_leaves_the_channel_unconnected(
        admin_client: Client, tenant: Tenant, graph: FakeMetaGraph) -> None:
    channel = create(admin_client, tenant, graph)
    graph.deny_next()
    answer = consent(admin_client, channel)
    assert answer.status_code == 302 and answer["Location"].endswith(f"/{channel.pk}/")
    channel.refresh_from_db()
    assert "page_token" not in channel.secrets
    page = admin_client.get(answer["Location"]).content.decode()
    assert "Facebook did not grant access" in page


def test_a_wrong_app_secret_is_reported(admin_client: Client, tenant: Tenant,
                                        graph: FakeMetaGraph) -> None:
    channel = create(admin_client, tenant, graph, app_secret="ab" * 16)
    answer = consent(admin_client, channel)
    channel.refresh_from_db()
    assert "page_token" not in channel.secrets
    assert "client secret" in admin_client.get(answer["Location"]).content.decode()


def test_a_callback_from_another_session_or_organisation_is_refused(
        admin_client: Client, tenant: Tenant, other_tenant: Tenant,
        graph: FakeMetaGraph) -> None:
    channel = create(admin_client, tenant, graph)
    started = admin_client.post(reverse("workspace:settings:channel_meta_connect",
                                        args=[channel.pk]))
    state = started["Location"].split("state=")[1].split("&")[0]
    stranger = Client(HTTP_ACCEPT_LANGUAGE="en")
    stranger.force_login(other_tenant.admin)
    answer = stranger.get(reverse("workspace:settings:channel_meta_callback"),
                          {"state": state, "code": "code-1"}, follow=True)
    assert "unknown or expired" in answer.content.decode()
    channel.refresh_from_db()
    assert "page_token" not in channel.secrets
    # Another organisation's admin cannot start a consent for this channel either.
    assert stranger.post(reverse("workspace:settings:channel_meta_connect",
                                 args=[channel.pk])).status_code == 404


def test_the_long_lived_token_is_renewed_before_it_expires(
        ig_channel: Channel, graph: FakeMetaGraph) -> None:
    first = ig_channel.secrets["user_token"]
    assert meta_consent.refresh_due() == 0  # 60 days left: nothing to do
    graph.advance(55 * 24 * 3600)
    assert meta_consent.refresh_due(now=graph.now) == 1
    ig_channel.refresh_from_db()
    renewed = ig_channel.secrets
    assert renewed["user_token"] != first
    assert graph.user_tokens[renewed["user_token"]] > graph.now + 59 * 24 * 3600


def test_an_expired_token_is_not_renewed_and_the_channel_is_left_as_it_was(
        ig_channel: Channel, graph: FakeMetaGraph) -> None:
    before = ig_channel.secrets
    graph.advance(61 * 24 * 3600)
    assert meta_consent.refresh_due(now=graph.now) == 0
    ig_channel.refresh_from_db()
    assert ig_channel.secrets == before


def test_an_instagram_channel_needs_a_page_with_an_instagram_account(
        admin_client: Client, tenant: Tenant, graph: FakeMetaGraph, monkeypatch: Any) -> None:
    channel = create(admin_client, tenant, graph, page_id="999")  # not a page they manage
    answer = consent(admin_client, channel)
    assert "Instagram professional account" in admin_client.get(
        answer["Location"]).content.decode()


def test_messenger_connects_the_same_way(admin_client: Client, tenant: Tenant,
                                         graph: FakeMetaGraph) -> None:
    channel = connect(admin_client, tenant, graph, kind="messenger")
    assert channel.settings["account_id"] == graph.page_id
    assert get_connector("messenger").test_connection(channel).ok
