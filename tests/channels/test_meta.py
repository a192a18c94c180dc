"""The Meta platform's shared pieces (`channels.meta`), used by WhatsApp's Cloud API and to
be used by Instagram and Messenger: the body signature on the raw bytes, with each way to
get it wrong; the subscription handshake; the Graph API's error shape and cursor pages."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from atende.channels import meta

SECRET = "app-secret-0123456789"
BODY = json.dumps({"object": "page", "entry": [{"id": "1", "messaging": []}]},
                  separators=(",", ":")).encode()


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_signature_of_the_raw_body_is_valid() -> None:
    assert meta.signature_valid(SECRET, BODY, signed(BODY))


@pytest.mark.parametrize(("secret", "body", "signature"), [
    (SECRET, BODY, ""),  # missing
    (SECRET, BODY, signed(BODY, "another-app's-secret")),  # another app's secret
    (SECRET, BODY, signed(BODY).removeprefix("sha256=")),  # without its prefix
    (SECRET, BODY, signed(BODY).replace("sha256=", "sha1=")),  # another algorithm's name
    (SECRET, BODY, signed(BODY).upper()),  # the digest is lower-case hex
    (SECRET, BODY, signed(BODY)[:-1]),  # truncated
    # The same JSON serialised again (spaces): the signature is over the bytes received.
    (SECRET, json.dumps(json.loads(BODY)).encode(), signed(BODY)),
    (SECRET, BODY + b" ", signed(BODY)),  # one byte more
    ("", BODY, signed(BODY, "")),  # no secret configured: nothing is authentic
], ids=["missing", "other-secret", "no-prefix", "other-algorithm", "upper-case",
        "truncated", "reserialised-body", "appended-byte", "no-secret"])
def test_each_way_to_get_the_signature_wrong_is_refused(secret: str, body: bytes,
                                                        signature: str) -> None:
    assert not meta.signature_valid(secret, body, signature)


@pytest.mark.parametrize(("params", "expected"), [
    ({"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"},
     "1158201444"),
    ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, None),
    ({"hub.mode": "subscribe", "hub.challenge": "1"}, None),
    ({"hub.mode": "unsubscribe", "hub.verify_token": "vt", "hub.challenge": "1"}, None),
])
def test_the_handshake_echoes_the_challenge_only_for_the_verify_token(
        params: dict[str, str], expected: str | None) -> None:
    assert meta.handshake(params, "vt") == expected


def test_no_verify_token_configured_answers_no_handshake() -> None:
    assert meta.handshake({"hub.mode": "subscribe", "hub.verify_token": "",
                           "hub.challenge": "1"}, "") is None


def test_the_graph_error_shape_is_read() -> None:
    error = meta.graph_error({"error": {
        "message": "(#10) Outside the allowed window", "type": "OAuthException", "code": 10,
        "error_subcode": 2018278, "error_data": {"details": "24 hours"}}})
    assert error == meta.GraphError(10, 2018278, "(#10) Outside the allowed window",
                                    "24 hours")
    assert meta.graph_error({"errors": [{"code": 1}]}) is None
    assert meta.graph_error("not json") is None


def test_cursor_pages_are_followed_and_bounded() -> None:
    calls: list[tuple[str, Any]] = []

    def get_json(url: str, params: dict[str, Any] | None) -> Any:
        calls.append((url, params))
        n = len(calls)
        return {"data": [{"n": n}, "not a row"], "paging": {"next": f"/next?after={n}"}}

    rows = list(meta.pages(get_json, "/list", {"limit": 1}))
    assert len(rows) == meta.MAX_PAGES  # a cursor that never ends stops
    assert calls[0] == ("/list", {"limit": 1}) and calls[1] == ("/next?after=1", None)
