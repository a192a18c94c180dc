"""Reading hostile MIME without crashing: headers, text and parts, each with a fallback.

The stdlib parser (`policy.default`) does the work; these helpers only decide what to do when
it raises or when the input is absurd (10 MB headers, lying charsets, NUL bytes), and skip
its header parse where the value is so simple that the parse would render it unchanged.
"""

from __future__ import annotations

import re
import sys
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.policy import EmailPolicy
from email.utils import unquote
from functools import lru_cache
from typing import Any

from atende.connectors.email import boundary
from atende.connectors.email.addresses import ATEXT, DOT_ATOM, decode_plain

MAX_HEADER_CHARS = 64 * 1024  # beyond this a header is not parsed, only cut
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CACHED_HEADER_CHARS = 2048


class _ReusingPolicy(EmailPolicy):
    """`policy.default`, but a header value is parsed once: the stdlib builds a new header
    object on every access (`get_content_type()`, `get_filename()`, `msg[name]`), a large
    share of the ingest CPU when each part's Content-Type is read several times. The parsed
    objects are not mutated by their readers, so equal (name, value) pairs can share one."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and len(value) <= _CACHED_HEADER_CHARS:
            return _parse_header(self, name, value)
        return super().header_fetch_parse(name, value)


@lru_cache(maxsize=4096)
def _parse_header(pol: _ReusingPolicy, name: str, value: str) -> Any:
    return EmailPolicy.header_fetch_parse(pol, name, value)


POLICY = _ReusingPolicy()

# A MIME header as mail programs write it: a type (`text/plain`), a disposition or an
# encoding, then `; name=value` parameters, each value a token or quoted text without
# escapes; ASCII, no encoded words, no RFC 2231 `name*=`, no comments.
_MIME_TOKEN = r"[!#$&+\-.0-9A-Z^_`a-z{|}~]+"  # noqa: S105 (a pattern, not a secret)
_PARAM = rf'[ \t]*({_MIME_TOKEN})=(?:({_MIME_TOKEN})|"([ \t!#-\[\]-~]*)")'
_SIMPLE_MIME_VALUE = {
    "content-type": re.compile(rf"({_MIME_TOKEN}/{_MIME_TOKEN})((?:;{_PARAM})*)"),
    "content-disposition": re.compile(rf"({_MIME_TOKEN})((?:;{_PARAM})*)"),
    "content-transfer-encoding": re.compile(rf"({_MIME_TOKEN})()"),
}
_PARAMS = re.compile(rf";{_PARAM}")
_LINESEP = re.compile(r"\r|\n")


@lru_cache(maxsize=1024)
def _simple_mime_text(name: str, value: str) -> str | None:
    """What `str()` of the stdlib's parsed header gives for a simple MIME header value (its
    canonical form: parameters quoted, the first of a repeated name), without the parse; None
    when the value is not that simple. tests/connectors/email/test_parse_policy.py checks
    this against the stdlib on generated values."""
    pattern = _SIMPLE_MIME_VALUE.get(name.lower())
    unfolded = "".join(_LINESEP.split(value))
    match = pattern.fullmatch(unfolded) if pattern is not None else None
    if match is None or "=?" in unfolded:
        return None
    params: dict[str, str] = {}
    for key, token, quoted in _PARAMS.findall(match.group(2)):
        params.setdefault(key, token or quoted)
    return match.group(1) + "".join(f'; {k}="{v}"' if v else f"; {k}"
                                    for k, v in params.items())


class _ParsingPolicy(_ReusingPolicy):
    """POLICY for reading a message's structure. The `Message` methods that read the MIME
    headers (`get_content_type()`, `get_param()`, `get_filename()`, the parser's boundary)
    only use the text of the parsed header object: for a simple value that text is made
    directly, without the header parse (much of the parse CPU, and a cache miss on every
    new boundary or file name). Anything else is parsed as by POLICY."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and len(value) <= _CACHED_HEADER_CHARS:
            text = _simple_mime_text(name, value)
            if text is not None:
                return text
        return super().header_fetch_parse(name, value)


PARSE_POLICY = _ParsingPolicy()
if sys.version_info < (3, 13):  # 3.13's feedparser has gh-106628, which boundary backports
    boundary.install()  # no regular expression compiled per multipart boundary

# Headers POLICY parses as more than text (addresses, dates, parameters); any other one
# with an ASCII value and no encoded words decodes to its unfolded self.
_STRUCTURED = frozenset(HeaderRegistry().registry) - {"subject"}
# So does an address header holding one plain address, bare or after a name of plain words
# (`Maria Souza <maria@example.com>`): the parsed header renders it unchanged
# (tests/connectors/email/test_parse_policy.py checks it on generated values).
_ADDRESS_HEADERS = frozenset(name for name, cls in HeaderRegistry().registry.items()
                             if "Address" in cls.__name__)
# Longer address values are not worth the shortcuts (a list of recipients, a hostile one).
_PLAIN_CHARS = 1000
_SIMPLE_ADDRESS = re.compile(
    rf"(?:{ATEXT}(?: {ATEXT})* <{DOT_ATOM}@{DOT_ATOM}>|{DOT_ATOM}@{DOT_ATOM})")


def clean_text(value: str) -> str:
    """No NUL (PostgreSQL refuses it) nor other control characters except newlines/tabs."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def raw_header(msg: Message, name: str) -> str:
    """The first raw value of header `name`, unparsed, cut to MAX_HEADER_CHARS."""
    value = _first_raw_values(msg).get(name.lower())
    return "" if value is None else str(value)[:MAX_HEADER_CHARS]


_INDEX = "_atende_first_raw"


def _first_raw_values(msg: Message) -> dict[str, Any]:
    """The first raw value of each header by lower-case name, kept on the message: a parse
    reads about twenty headers of a mail, each a scan of all of them. Built again when the
    header list is another or has another length (the parse never changes it)."""
    headers = msg._headers  # type: ignore[attr-defined]
    index = msg.__dict__.get(_INDEX)
    if index is None or index[0] is not headers or index[1] != len(headers):
        first: dict[str, Any] = {}
        for key, value in headers:
            first.setdefault(key.lower(), value)
        index = (headers, len(headers), first)
        msg.__dict__[_INDEX] = index
    return index[2]  # type: ignore[no-any-return]


def all_raw_headers(msg: Message, name: str) -> list[str]:
    lowered = name.lower()
    return [str(v)[:MAX_HEADER_CHARS] for k, v in msg.raw_items()  # type: ignore[attr-defined]
            if k.lower() == lowered]


def header(msg: Message, name: str, limit: int = 2000) -> str:
    """The decoded value of header `name` ("" when absent), never raising."""
    return decode_header_value(name, raw_header(msg, name), limit)


def decode_header_value(name: str, raw: str, limit: int = 2000) -> str:
    """A header's raw value decoded (encoded words, folding, control characters), never
    raising: what `msg[name]` gives under POLICY, with fallbacks for malformed values."""
    if not raw:
        return ""
    if raw.isascii():
        lowered = name.lower()
        encoded = "=?" in raw
        if not encoded and lowered not in _STRUCTURED:
            # Nothing to decode (the common case): the parsed value is the unfolded text.
            return clean_text(" ".join(raw.split()))[:limit]
        if lowered in _ADDRESS_HEADERS and len(raw) < _PLAIN_CHARS:
            unfolded = " ".join("".join(_LINESEP.split(raw)).split())  # as the policy does
            if not encoded:  # one plain address renders as it is
                rendered = unfolded if _SIMPLE_ADDRESS.fullmatch(unfolded) else None
            else:  # a name in encoded words before one address
                rendered = decode_plain(unfolded)
            if rendered is not None:
                return clean_text(rendered)[:limit]
    if _has_raw_8bit(raw):
        # Unencoded 8-bit bytes (not allowed, common anyway): UTF-8, else Windows-1252.
        raw = decode_text(raw.encode("utf-8", "surrogateescape"), None)
        return clean_text(" ".join(raw.split()))[:limit]
    if len(raw) < MAX_HEADER_CHARS:
        parsed = _parsed_header(name, raw)
        if parsed is not None:
            return clean_text(" ".join(parsed.split()))[:limit]
    try:
        decoded = str(make_header(decode_header(raw[:limit * 4])))
    except Exception:
        decoded = raw
    return clean_text(" ".join(decoded.split()))[:limit]


def _has_raw_8bit(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _parsed_header(name: str, raw: str) -> str | None:
    try:
        return str(POLICY.header_fetch_parse(name, raw))
    except Exception:  # malformed: the caller falls back to a plain decode
        return None


def part_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def decode_text(data: bytes, charset: str | None) -> str:
    """Declared charset, then UTF-8, then Windows-1252: a lying or unknown charset still
    gives readable text."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return clean_text(data.decode(candidate))
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return clean_text(data.decode("cp1252", errors="replace"))


def part_text(part: Message) -> str:
    return decode_text(part_bytes(part), charset(part))


def charset(part: Message) -> str | None:
    """The part's declared charset, lower-cased (`get_content_charset()`), never raising."""
    params = _simple_params(part, "Content-Type")
    if params is not None:
        found = params.get("charset")
        return None if found is None else found.lower()
    try:
        return part.get_content_charset()
    except Exception:
        return None


@lru_cache(maxsize=1024)
def _params_of(name: str, value: str) -> dict[str, str] | None:
    """The parameters of a simple MIME header value (see `_simple_mime_text`) by lower-case
    name, the first of a repeated one, each as `Message.get_param` gives it (unquoted); None
    for any other value."""
    if _simple_mime_text(name, value) is None:
        return None
    match = _SIMPLE_MIME_VALUE[name.lower()].fullmatch("".join(_LINESEP.split(value)))
    assert match is not None  # _simple_mime_text matched it
    params: dict[str, str] = {}
    for key, token, quoted in _PARAMS.findall(match.group(2)):
        params.setdefault(key.lower(), token or quoted)
    return params


def _simple_params(part: Message, name: str) -> dict[str, str] | None:
    """`_params_of` the part's header `name` ({} when absent); None when the value is not
    simple, or too long to have been read whole."""
    raw = raw_header(part, name)
    if not raw:
        return {}
    return _params_of(name, raw) if len(raw) < MAX_HEADER_CHARS else None


def content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def filename(part: Message) -> str:
    disposition = _simple_params(part, "Content-Disposition")
    ctype = _simple_params(part, "Content-Type") if disposition is not None else None
    if disposition is not None and ctype is not None:
        # `get_filename()`: `filename` of the disposition, else `name` of the type, each
        # unquoted once more (a name in quotes or <> loses them) and stripped.
        found = disposition.get("filename", ctype.get("name"))
        name = "" if found is None else unquote(found).strip()
    else:
        try:
            name = part.get_filename() or ""
        except Exception:
            name = ""
    return clean_text(str(name))[:255]


def is_attachment(part: Message, name: str | None = None) -> bool:
    """A part to keep as a file; `name` is its `filename(part)` when the caller has it."""
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    if disposition == "attachment":
        return True
    return bool((filename(part) if name is None else name) and disposition != "inline")
