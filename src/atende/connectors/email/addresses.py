"""Address headers without the stdlib's parsers for the plain case: a decoded value split
into (display name, address) as `email.utils` does, and a raw value with encoded words
decoded as the header policy renders it.

`parseaddr` and `getaddresses` tokenise the whole value in Python, for two headers of
every mail. Most values are one plain address: bare, or after
a display name of plain words ("João Silva <joao@example.com.br>"). For such a value the
result is known from a regular expression: the words joined by single spaces, and the
address as written. Anything else (quotes, comments, groups, several addresses, dots or
other specials in the name, any other spacing) goes to `email.utils`.
tests/connectors/email/test_addresses.py compares both on generated values.

The header policy parses an address header into tokens, slower still for a name in
encoded words ("=?utf-8?q?Jo=C3=A3o?= Silva <joao@example.com.br>", as many senders write).
`decode_plain` renders such a value directly when it is one address after a name of
encoded words (UTF-8 or Latin-1) between plain atoms that decodes to plain words: the
words decoded and joined by one space, the address as written. Any other value (two
encoded words in a row, a special or any other spacing in the decoded name, an
undecodable word, another charset) is left to the policy.
tests/connectors/email/test_parse_policy.py compares it with the policy.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from email.header import decode_header
from email.utils import getaddresses, parseaddr

# RFC 5322 atoms, ASCII: what an address is written with (mime.py uses them too).
ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+"
DOT_ATOM = rf"{ATEXT}(?:\.{ATEXT})*"
# A word of a display name: no special of RFC 5322 (the dot included: "J. Silva" is read
# as an obsolete phrase) and no space of any kind.
_WORD = r"[^\s\"(),.:;<>@\[\]\\]+"
_PLAIN = re.compile(rf"(?:({_WORD}(?: {_WORD})*) <({DOT_ATOM}@{DOT_ATOM})>"
                    rf"|({DOT_ATOM}@{DOT_ATOM}))")


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


_ENCODED = r"=\?(?:utf-8|iso-8859-1)\?[qQbB]\?[^?\s]+\?="
_ENCODED_WORD = re.compile(_ENCODED, re.IGNORECASE)
_ENCODED_PLAIN = re.compile(
    rf"((?:{_ENCODED}|{ATEXT})(?: (?:{_ENCODED}|{ATEXT}))*) <({DOT_ATOM}@{DOT_ATOM})>",
    re.IGNORECASE)
# What the decoded name must be to be rendered as it is: plain words, single spaces, no
# control character (the policy quotes a name with a special, and reads others its way).
_NAME_WORD = r"[^\s\"(),.:;<>@\[\]\\\x00-\x1f\x7f]+"
_PLAIN_NAME = re.compile(rf"{_NAME_WORD}(?: {_NAME_WORD})*")


def decode_plain(unfolded: str) -> str | None:
    """`str()` of the policy's parsed address header for an unfolded ASCII value (single
    spaces) of one address after a name with encoded words; None for any other value."""
    match = _ENCODED_PLAIN.fullmatch(unfolded)
    if match is None:
        return None
    pieces: list[str] = []
    previous_encoded = False
    for word in match.group(1).split(" "):
        encoded = _ENCODED_WORD.fullmatch(word) is not None
        if (encoded and previous_encoded) or (not encoded and "=?" in word):
            # Adjacent encoded words (the policy keeps a space between them in a name, RFC
            # 2047 drops it), or one that is not of the kind read here.
            return None
        if encoded:
            try:
                [(data, charset)] = decode_header(word)
                text = data.decode(charset) if isinstance(data, bytes) and charset else None
            except (ValueError, LookupError, binascii.Error, UnicodeError):
                return None
            if text is None:
                return None
        else:
            text = word
        if pieces:
            pieces.append(" ")
        pieces.append(text)
        previous_encoded = encoded
    name = "".join(pieces)
    if not _PLAIN_NAME.fullmatch(name):
        return None
    return f"{name} <{match.group(2)}>"
