"""A decoded address header split into (display name, address) as `email.utils` does,
without its parser for the plain case.

`parseaddr` and `getaddresses` tokenise the whole value in Python (20-25 µs a header, two
headers a mail, `bench/email_ingest.py`). Most values are one plain address: bare, or after
a display name of plain words ("João Silva <joao@example.com.br>"). For such a value the
result is known from a regular expression: the words joined by single spaces, and the
address as written. Anything else (quotes, comments, groups, several addresses, dots or
other specials in the name, any other spacing) goes to `email.utils`.
tests/connectors/email/test_addresses.py compares both on generated values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.utils import getaddresses, parseaddr

_ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
# A word of a display name: no special of RFC 5322 (the dot included: "J. Silva" is read
# as an obsolete phrase) and no space of any kind.
_WORD = r"[^\s\"(),.:;<>@\[\]\\]+"
_PLAIN = re.compile(rf"(?:({_WORD}(?: {_WORD})*) <({_DOT_ATOM}@{_DOT_ATOM})>"
                    rf"|({_DOT_ATOM}@{_DOT_ATOM}))")


def parse_address(value: str) -> tuple[str, str]:
    """`email.utils.parseaddr(value)`."""
    plain = _PLAIN.fullmatch(value)
    if plain is None:
        return parseaddr(value)
    name, address, bare = plain.groups()
    return (name, address) if bare is None else ("", bare)


def address_list(values: Sequence[str]) -> list[tuple[str, str]]:
    """`email.utils.getaddresses(values)`."""
    pairs = []
    for value in values:
        plain = _PLAIN.fullmatch(value)
        if plain is None:
            return getaddresses(values)
        name, address, bare = plain.groups()
        pairs.append((name, address) if bare is None else ("", bare))
    return pairs
