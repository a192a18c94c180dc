"""The kit's lean webhook route (`channels.webhook_route`), as each webhook connector wraps
it around Django in `atende.asgi`: what it answers before any connector code runs."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from atende.ids import MAX_ID
from tests.channels.asgi_client import asgi_call

pytestmark = pytest.mark.django_db(transaction=True)
KINDS = ["whatsapp", "telegram", "instagram", "messenger"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_channel_id_beyond_a_bigint_is_an_unknown_channel(kind: str) -> None:
    status, headers, body = asgi_call("POST", f"/{kind}/{MAX_ID + 1}/webhook", b"{}")
    assert (status, json.loads(body)) == (404, {"error": "unknown channel"})
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("kind", KINDS)
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_body_over_the_upload_limit_is_refused_unread(kind: str) -> None:
    status, _headers, body = asgi_call("POST", f"/{kind}/1/webhook", b"x" * 101)
    assert (status, json.loads(body)) == (413, {"error": "body too large"})
