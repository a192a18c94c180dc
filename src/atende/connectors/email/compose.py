"""An agent's answer (or an automatic mail) as a MIME mail that threads (CONTRACTS §6.1):
our Message-ID, In-Reply-To / References from the ticket's mails, the `[#TKT-…]` token."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.html import linebreaks

from atende.channels.connector import OutboundAttachment
from atende.connectors.email import thread_keys
from atende.connectors.email.config import EmailSettings, InlineImage
from atende.connectors.email.loops import LOOP_HEADER, loop_value

KEEP_REFERENCES = 10  # besides the first id: long chains keep the first and the last ten


@dataclass(frozen=True)
class Draft:
    to: str
    subject: str
    text: str
    html: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    attachments: Sequence[OutboundAttachment] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()


def references_chain(ids: Sequence[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(i for i in ids if i))
    if len(unique) <= KEEP_REFERENCES + 1:
        return tuple(unique)
    return (unique[0], *unique[-KEEP_REFERENCES:])


def one_line(value: str) -> str:
    """`value` with its line breaks folded into single spaces: a header may not contain one
    (the mail could not be built, and the reply would stay queued), and a ticket's title
    or a sender name can."""
    return " ".join(part.strip() for part in value.splitlines() if part.strip())


def compose(cfg: EmailSettings, draft: Draft, message_id: str) -> EmailMessage:
    """A multipart text + HTML mail with the channel's signature and the attachments."""
    mail = EmailMessage()
    mail["From"] = formataddr((one_line(cfg.from_name), cfg.address))
    mail["To"] = draft.to
    mail["Subject"] = one_line(draft.subject)
    mail["Date"] = format_datetime(timezone.now())
    mail["Message-ID"] = f"<{message_id}>"
    if draft.in_reply_to:
        mail["In-Reply-To"] = f"<{draft.in_reply_to}>"
    if draft.references:
        mail["References"] = " ".join(f"<{i}>" for i in draft.references)
    mail[LOOP_HEADER] = loop_value(cfg.address)
    for name, value in draft.extra_headers:
        mail[name] = value
    text = draft.text
    html = draft.html or linebreaks(draft.text, autoescape=True)
    if cfg.signature_text:
        text = f"{text}\n\n-- \n{cfg.signature_text}"
    signature_html, images = signature_with_images(cfg, message_id)
    if signature_html:
        html = f"{html}\n<div class=\"signature\">{signature_html}</div>"
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    if images:
        # multipart/related around the HTML: the signature's images travel inside the mail,
        # so the customer's client shows them without asking to load remote images.
        html_part = mail.get_body(("html",))
        assert html_part is not None  # just added
        for cid, image in images:
            maintype, _sep, subtype = image.content_type.partition("/")
            html_part.add_related(image.read(), maintype=maintype, subtype=subtype,
                                  cid=f"<{cid}>")
    for attachment in draft.attachments:
        with default_storage.open(attachment.storage_name, "rb") as stored:
            data = stored.read()
        maintype, _sep, subtype = (attachment.content_type or "").partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(data, maintype=maintype, subtype=subtype,
                            filename=attachment.filename)
    return mail


def signature_with_images(cfg: EmailSettings,
                          message_id: str) -> tuple[str, list[tuple[str, InlineImage]]]:
    """The signature's HTML with a Content-ID per image unique to this mail (RFC 2392), and
    the images it refers to."""
    html = cfg.signature_html
    images = []
    for image in cfg.signature_images:
        reference = f'src="cid:{image.cid}"'
        if reference not in html:
            continue
        try:
            data = image.read()
        except OSError:
            # A lost file must not stop the channel's mail: the answer leaves without it.
            html = re.sub(rf'<img[^>]*{re.escape(reference)}[^>]*>', "", html)
            continue
        cid = f"{image.cid}.{message_id}"
        html = html.replace(reference, f'src="cid:{cid}"')
        images.append((cid, replace(image, data=data, storage_name="")))
    return html, images


def new_message_id(cfg: EmailSettings, protocol: str) -> str:
    return thread_keys.new_message_id(protocol or "atende", cfg.domain)
