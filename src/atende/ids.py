"""Row ids read from text a client sent (query strings, form fields, cursors)."""

from __future__ import annotations

# The largest id a bigint column holds; a larger number names no row (and would overflow
# the database driver instead of finding nothing).
MAX_ID = 2**63 - 1


def parse_id(text: str) -> int | None:
    """The id `text` spells in ASCII digits, or None. `str.isdigit()` is no test for it: it
    is true of "²" and "①", which `int()` refuses, and of digits of other scripts."""
    text = text.strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ID else None
