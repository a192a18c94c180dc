"""Deeply nested JSON from outside is a clear 400 (and a quarantined webhook body), never
a server error: the standard decoder's RecursionError is not a ValueError, so every
handler written for broken JSON let it through as a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from atende import json_input
from atende.tickets.selectors import BadCursor, TimelineKey, decode_cursor
from tests.conftest import ApiClient

DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")
DEEP_BODY = b"[" * 100_000 + b"]" * 100_000  # the webhook probe of the issue


JUST_TOO_DEEP = "[" * (json_input.MAX_DEPTH + 1) + "]" * (json_input.MAX_DEPTH + 1)


@pytest.mark.parametrize("raw", [b"[" * 5000, DEEP_BODY, '{"a":' * 3000 + "1" + "}" * 3000,
                                 JUST_TOO_DEEP])
def test_deep_json_is_a_value_error(raw: Any) -> None:
    with pytest.raises(json_input.TooDeep):
        json_input.loads(raw)


def test_brackets_inside_strings_and_wide_json_are_read() -> None:
    wide = {"text": "[" * 5000 + '\\"{', "items": [[{"n": i}] for i in range(500)]}
    assert json_input.loads(json.dumps(wide).encode()) == wide
    edge = "[" * json_input.MAX_DEPTH + "]" * json_input.MAX_DEPTH
    assert json_input.loads(edge) is not None


def test_deep_cursors_are_bad_cursors() -> None:
    with pytest.raises(BadCursor):
        decode_cursor(DEEP_CURSOR)
    with pytest.raises(BadCursor):
        TimelineKey.decode(DEEP_CURSOR)


def test_deep_cursor_on_the_ticket_list_is_400(api: ApiClient) -> None:
    response = api.get("/api/v1/tickets", {"cursor": DEEP_CURSOR})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "cursor"
