"""JSON that came from outside (webhook bodies, API bodies, pagination cursors), read in
one way: whatever is wrong with it, the caller gets a `ValueError`.

The standard decoder recurses once per nested array or object, so a body like `[[[[…`
a few thousand levels deep raises RecursionError, which is not a ValueError: handlers
written for broken JSON let it through as a server error. Here it is a `TooDeep`
(a ValueError), so every `except ValueError` that already answers 400 or quarantines a
body covers it too.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Deeper than any provider's or client's real payload, and far below the interpreter's
# recursion limit, so that code walking the result later (re-serialising, validating)
# cannot hit it either.
MAX_DEPTH = 64


class TooDeep(ValueError):
    """The JSON nests arrays or objects deeper than MAX_DEPTH."""


def loads(raw: str | bytes | bytearray) -> Any:
    """Decode untrusted JSON. Raises `json.JSONDecodeError` for broken JSON and `TooDeep`
    for JSON nested deeper than MAX_DEPTH (both ValueErrors)."""
    if _deeper_than(raw, MAX_DEPTH):
        raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw)
    except RecursionError as exc:  # a safety net: _deeper_than should have caught it
        raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels") from exc


def _deeper_than(raw: str | bytes | bytearray, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit`. Without recursion; the
    strings are skipped by a regular expression, so only brackets are counted in Python,
    and only for a body with more brackets than `limit` at all."""
    text = bytes(raw) if isinstance(raw, bytearray) else raw
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= limit:  # the common case: no scan
            return False
        tokens: list[Any] = _TOKENS_BYTES.findall(text)
        opening: tuple[Any, ...] = (b"[", b"{")
    else:
        if text.count("[") + text.count("{") <= limit:
            return False
        tokens = _TOKENS.findall(text)
        opening = ("[", "{")
    depth = 0
    for token in tokens:
        if len(token) != 1:  # a string
            continue
        if token in opening:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


# A JSON string (escapes included) or one bracket.
_PATTERN = r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]'
_TOKENS = re.compile(_PATTERN, re.DOTALL)
_TOKENS_BYTES = re.compile(_PATTERN.encode(), re.DOTALL)
