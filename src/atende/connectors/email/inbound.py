"""A raw mail → `ParsedMail` → the `InboundMessage` every channel shares.

Parsing never raises on bad input: every header and part has a fallback (see `mime`). What
cannot become a ticket (no usable sender) is refused later by `ingest` and quarantined.
"""

from __future__ import annotations

import hashlib
import html as html_lib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from email.utils import parsedate_to_datetime

import nh3
from django.conf import settings
from django.utils.translation import gettext as _

from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.reasons import Unreadable, reason
from atende.connectors.email import mime, thread_keys
from atende.connectors.email.addresses import address_list, parse_address
from atende.connectors.email.loops import carries_our_loop_header, no_auto_reply_reason
from atende.connectors.email.mime import (
    MAX_HEADER_CHARS,
    all_raw_headers,
    clean_text,
    content_type,
    decode_header_value,
    decode_text,
    filename,
    header,
    is_attachment,
    part_bytes,
    part_text,
    raw_header,
)
from atende.contacts.models import IdentityKind

MAX_DEPTH = 30  # deeper MIME nesting is not read (its parts are noted as skipped)
MAX_RECIPIENTS = 100
MAX_CIDS = 100


@dataclass(frozen=True)
class DeliveryReport:
    """A DSN (RFC 3464): which of our mails failed and why."""

    original_ids: tuple[str, ...]
    reason: str


@dataclass
class ParsedMail:
    message_id: str
    generated_id: bool
    sender: str
    sender_name: str
    recipients: tuple[str, ...]
    subject: str
    text: str = ""
    html: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    sent_at: datetime | None = None
    no_auto_reply: str = ""
    our_loop: bool = False
    forwarded: bool = False
    report: DeliveryReport | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cids: dict[str, str] = field(default_factory=dict)  # Content-ID → sha256 of the part


def parse(raw: bytes, own_address: str = "") -> ParsedMail:
    """The mail's headers and parts; attachments over `ATTACHMENT_MAX_BYTES` are left out
    with a note."""
    limit = settings.ATTACHMENT_MAX_BYTES
    msg = message_from_bytes(raw, policy=mime.PARSE_POLICY)
    sender_name, sender = _sender(msg)
    recipients = _recipients(msg)
    subject = header(msg, "Subject", limit=300)
    message_id = thread_keys.first_message_id(raw_header(msg, "Message-ID"))
    parsed = ParsedMail(
        message_id=message_id or thread_keys.generated_message_id(
            sender, ",".join(recipients), header(msg, "Date"), subject,
            hashlib.sha256(raw.split(b"\r\n\r\n", 1)[-1].split(b"\n\n", 1)[-1]).hexdigest(),
        ),
        generated_id=not message_id, sender=sender, sender_name=sender_name,
        recipients=recipients, subject=subject,
        in_reply_to=thread_keys.message_ids(raw_header(msg, "In-Reply-To")),
        references=thread_keys.message_ids(" ".join(all_raw_headers(msg, "References"))),
        sent_at=_date(msg), no_auto_reply=no_auto_reply_reason(msg, sender, own_address),
        our_loop=carries_our_loop_header(msg, own_address),
        forwarded=thread_keys.looks_forwarded(subject),
        headers=HeaderMap(msg),
    )
    _walk(msg, parsed, depth=0, limit=limit)
    if not parsed.text and parsed.html:
        parsed.text = html_lib.unescape(nh3.clean(parsed.html, tags=set())).strip()
    if parsed.notes:
        parsed.text = "\n\n".join([parsed.text, *parsed.notes]).strip()
        if parsed.html:  # the timeline shows the HTML: the notes must be there too
            parsed.html += "".join(f"<p>{html_lib.escape(n)}</p>" for n in parsed.notes)
    return parsed


MAX_HEADERS = 100


class HeaderMap(Mapping[str, str]):
    """Decoded header values by lower-case name (the first of each, at most MAX_HEADERS),
    for processing rules. Decoded on first read: most mails meet no rule on headers. Keeps
    only the raw header lines, not the parsed message."""

    def __init__(self, msg: Message) -> None:
        self._raw: dict[str, tuple[str, str]] = {}
        for name, value in msg.raw_items():  # type: ignore[attr-defined]
            lowered = name.lower()
            if lowered not in self._raw:
                if len(self._raw) >= MAX_HEADERS:
                    break
                self._raw[lowered] = (name, str(value)[:MAX_HEADER_CHARS])
        self._decoded: dict[str, str] | None = None

    def _values(self) -> dict[str, str]:
        if self._decoded is None:
            self._decoded = {lowered: decode_header_value(name, value, limit=500)
                             for lowered, (name, value) in self._raw.items()}
        return self._decoded

    def __getitem__(self, name: str) -> str:
        return self._values()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _sender(msg: Message) -> tuple[str, str]:
    for name in ("From", "Reply-To", "Sender", "Return-Path"):
        display, address = parse_address(header(msg, name, limit=1000))
        if "@" in address:
            return clean_text(display)[:200], address.strip().lower()[:320]
    return "", ""


def _recipients(msg: Message) -> tuple[str, ...]:
    values = [header(msg, name, limit=200_000) for name in ("To", "Cc", "Delivered-To")]
    addresses = [a.strip().lower() for _n, a in address_list([v for v in values if v])]
    return tuple(dict.fromkeys(a for a in addresses if "@" in a))[:MAX_RECIPIENTS]


def _date(msg: Message) -> datetime | None:
    # The raw value: decoding it first (POLICY's date header) parses the date twice.
    raw = raw_header(msg, "Date")
    try:
        value = parsedate_to_datetime(" ".join(raw.split()) if raw.isascii() else
                                      header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo is not None else None


def read(raw: bytes, own_address: str = "") -> ParsedMail:
    """`parse`, with any failure of the parser raised as the kit's `Unreadable`."""
    try:
        return parse(raw, own_address)
    except Exception as exc:
        raise Unreadable.of(exc) from exc


def parse_or_reason(raw: bytes, own_address: str = "") -> ParsedMail | str:
    """The parsed mail, or why it cannot be read (the kit's words for an unreadable
    event): a batch goes on with its other mails."""
    try:
        return read(raw, own_address)
    except Unreadable as exc:
        return reason(exc)


def _walk(part: Message, parsed: ParsedMail, depth: int, limit: int) -> None:
    if depth > MAX_DEPTH:
        parsed.notes.append(_("[Parts nested too deeply were not read.]"))
        return
    ctype = content_type(part)
    if ctype == "multipart/report":
        parsed.report = _delivery_report(part)
    if part.is_multipart() and ctype != "message/rfc822":
        payload = part.get_payload()
        children = payload if isinstance(payload, list) else []
        for child in children:
            if isinstance(child, Message):
                _walk(child, parsed, depth + 1, limit)
        if depth + 1 > MAX_DEPTH and not parsed.notes:
            parsed.notes.append(_("[Parts nested too deeply were not read.]"))
        return
    if ctype == "message/rfc822":
        parsed.forwarded = True
        _add_attachment(parsed, part, filename(part) or "message.eml", ctype, _embedded(part),
                        limit)
        return
    name = filename(part)  # its parameters are parsed anew on each call: once here
    attachment = is_attachment(part, name)
    if not attachment and ctype == "text/plain" and not parsed.text:
        parsed.text = part_text(part)
    elif not attachment and ctype == "text/html" and not parsed.html:
        parsed.html = part_text(part)
    elif ctype in ("message/delivery-status", "text/rfc822-headers") and not attachment:
        return
    else:
        default = "inline" if ctype.startswith("image/") else "attachment"
        _add_attachment(parsed, part, name or default, ctype, part_bytes(part), limit)


def _embedded(part: Message) -> bytes:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    try:
        return inner.as_bytes() if isinstance(inner, Message) else part_bytes(part)
    except Exception:
        return part_bytes(part)


def _add_attachment(parsed: ParsedMail, part: Message, name: str, ctype: str,
                    data: bytes, limit: int) -> None:
    if len(data) > limit:
        parsed.notes.append(_(
            "[The attachment \"%(name)s\" (%(size)d MB) was refused: files may have at most "
            "%(limit)d MB.]") % {"name": name, "size": len(data) // (1024 * 1024),
                                 "limit": limit // (1024 * 1024)})
        return
    parsed.attachments.append(InboundAttachment(name, ctype, data))
    content_id = raw_header(part, "Content-ID").strip().strip("<>").strip()
    if content_id and len(parsed.cids) < MAX_CIDS:
        parsed.cids[content_id[:200]] = hashlib.sha256(data).hexdigest()


def _delivery_report(part: Message) -> DeliveryReport:
    ids: list[str] = []
    reason = ""
    for child in part.walk():
        ctype = content_type(child)
        if ctype == "message/delivery-status":
            reason = reason or _dsn_reason(child)
        elif ctype in ("message/rfc822", "text/rfc822-headers"):
            text = part_text(child) if ctype == "text/rfc822-headers" else _embedded(
                child).decode("utf-8", "replace")
            head = message_from_bytes(text.encode("utf-8", "replace"), policy=mime.PARSE_POLICY)
            found = thread_keys.first_message_id(raw_header(head, "Message-ID"))
            if found:
                ids.append(found)
    return DeliveryReport(tuple(dict.fromkeys(ids)), reason or "delivery failed")


def _dsn_reason(part: Message) -> str:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks:
        if not isinstance(block, Message):
            continue
        action = header(block, "Action").lower()
        if action and action != "failed":
            continue
        fields = [header(block, n) for n in ("Status", "Diagnostic-Code")]
        recipient = header(block, "Final-Recipient") or header(block, "Original-Recipient")
        text = " ".join(f for f in (recipient, *fields) if f)
        if text:
            return text[:1000]
    raw = decode_text(part_bytes(part), "utf-8")
    return " ".join(raw.split())[:1000]


def to_inbound(parsed: ParsedMail, channel_id: int, *, own_address: str = "",
               reopen_closed: bool = True) -> InboundMessage:
    """Threading order (CONTRACTS §6.1): Message-IDs (In-Reply-To, the mail's own id,
    References newest first; see docs/email.md), then subject token, then plus-address.
    A forwarded mail without a token never joins another ticket by its references.
    Raises Unreadable for a mail with no sender address (nobody to answer)."""
    if not parsed.sender:
        raise Unreadable("no sender e-mail address in the mail")
    number = thread_keys.subject_ticket_number(parsed.subject)
    if number is None:
        number = thread_keys.plus_ticket_number(parsed.recipients, own_address)
    # Most specific first (the ingest takes the first key that leads to a ticket): the mail
    # answered, then this mail itself (a reply to it taken in earlier left its id on the
    # reply's ticket), then the References from the newest back to the conversation's root.
    keys = () if parsed.forwarded and number is None else (
        *parsed.in_reply_to, parsed.message_id, *reversed(parsed.references))
    report = parsed.report
    if report is not None:
        keys = (*keys, *report.original_ids)
    metadata: dict[str, object] = {"recipients": list(parsed.recipients[:20])}
    if parsed.no_auto_reply:
        metadata["no_auto_reply"] = parsed.no_auto_reply
    return InboundMessage(
        channel_id=channel_id, external_id=parsed.message_id,
        contact=ContactRef(IdentityKind.EMAIL, parsed.sender, parsed.sender_name),
        text=parsed.text, html=parsed.html, subject=thread_keys.display_subject(parsed.subject),
        attachments=tuple(parsed.attachments), sent_at=parsed.sent_at,
        thread_keys=tuple(dict.fromkeys(keys)), thread_key=parsed.message_id,
        metadata=metadata, ticket_number=number, reopen_closed=reopen_closed,
    )
