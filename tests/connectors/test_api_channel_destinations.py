"""The SSRF guard on API channels' webhook URLs through the REST API: refused when created or
changed (a 400 naming the reason), and "test connection" answers with the receiver's status,
never its body."""

from __future__ import annotations

import pytest

from atende.channels.models import Channel
from tests.conftest import ApiClient
from tests.connectors.conftest import ApiChannel
from tests.fakes.http_receiver import HttpReceiver
from tests.net.refused_urls import REFUSED_URLS


@pytest.mark.parametrize(("url", "words"), REFUSED_URLS)
def test_create_refuses_an_internal_or_malformed_webhook_url(
        ssrf_guard: None, api: ApiClient, url: str, words: str) -> None:
    response = api.post("/api/v1/channels", {"name": "ERP", "webhook_url": url})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == "webhook_url"
    assert words in error["message"], error["message"]
    assert not Channel.objects.exists()


@pytest.mark.parametrize(("url", "words"), REFUSED_URLS)
def test_patch_refuses_an_internal_or_malformed_webhook_url(
        ssrf_guard: None, api: ApiClient, url: str, words: str) -> None:
    created = api.post("/api/v1/channels", {"name": "ERP"}).json()
    response = api.patch(f"/api/v1/channels/{created['id']}", {"webhook_url": url})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == "webhook_url"
    assert words in response.json()["error"]["message"]
    assert Channel.objects.get().settings["webhook_url"] == ""


def test_test_connection_shows_the_status_never_the_body(
        api: ApiClient, api_channel: ApiChannel, receiver: HttpReceiver) -> None:
    receiver.respond_with((502, {"internal": "inside-secret-42"}))
    result = api.post(f"/api/v1/channels/{api_channel.channel.pk}/test").json()
    assert result == {"ok": False, "step": "webhook",
                      "message": "HTTP 502 Bad Gateway"}


def test_test_connection_to_an_internal_address_sends_nothing(
        ssrf_guard: None, api: ApiClient, api_channel: ApiChannel,
        receiver: HttpReceiver) -> None:
    result = api.post(f"/api/v1/channels/{api_channel.channel.pk}/test").json()
    assert result["ok"] is False and "loopback" in result["message"]
    assert receiver.requests == []
