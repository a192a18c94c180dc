"""Thread keys of a mail (CONTRACTS §6.1): Message-IDs, the `[#TKT-000123]` subject token and
the plus-address `support+TKT-000123@…`. Never the subject text alone."""

from __future__ import annotations

import hashlib
import re
import uuid

from atende.tickets.models import format_protocol

MAX_ID_CHARS = 250
MAX_REFERENCES = 50
GENERATED_DOMAIN = "atende.generated"
_ID = re.compile(rf"<([^<>\s]{{1,{MAX_ID_CHARS}}})>")
_TOKEN = re.compile(r"\[#TKT-(\d{1,12})\]", re.IGNORECASE)
_PLUS = re.compile(r"^([^@+]+)\+TKT-(\d{1,12})@(.+)$", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*((re|res|fw|fwd|enc|aw|wg|tr|rv)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_FORWARD = re.compile(r"^\s*(fw|fwd|enc|wg|tr|rv)\s*:", re.IGNORECASE)


def message_ids(raw: str, keep_last: int = MAX_REFERENCES) -> tuple[str, ...]:
    """The ids in an In-Reply-To / References value, without angle brackets, in order."""
    found = list(dict.fromkeys(_ID.findall(raw)))
    return tuple(found[-keep_last:])


def first_message_id(raw: str) -> str:
    found = _ID.findall(raw)
    return found[0] if found else ""


def generated_message_id(*stable_parts: str) -> str:
    """A Message-ID for a mail that has none: a hash of headers that survive redelivery, so
    the same mail fetched twice is still recognised."""
    digest = hashlib.sha256("\x1f".join(stable_parts).encode("utf-8", "replace")).hexdigest()
    return f"{digest[:40]}@{GENERATED_DOMAIN}"


def new_message_id(protocol: str, domain: str) -> str:
    return f"{uuid.uuid4().hex}.{protocol.lower()}@{domain}"


def subject_ticket_number(subject: str) -> int | None:
    match = _TOKEN.search(subject)
    return int(match.group(1)) if match else None


def plus_ticket_number(recipients: tuple[str, ...], own_address: str) -> int | None:
    """`support+TKT-000123@example.com` when `support@example.com` is this channel."""
    own = own_address.lower()
    for address in recipients:
        match = _PLUS.match(address.lower())
        if match and f"{match.group(1)}@{match.group(3)}" == own:
            return int(match.group(2))
    return None


def subject_token(number: int) -> str:
    return f"[#{format_protocol(number)}]"


def reply_subject(subject: str, number: int) -> str:
    """`Re: [#TKT-000123] subject`, the token once, whatever prefixes the subject had."""
    token = subject_token(number)
    base = _PREFIX.sub("", _TOKEN.sub("", subject)).strip()
    return f"Re: {token} {base}".strip()


def display_subject(subject: str) -> str:
    return _PREFIX.sub("", subject).strip()


def looks_forwarded(subject: str) -> bool:
    return bool(_FORWARD.match(subject))
