"""The channel's rich-text signature (EM-6): sanitised on save, images as inline CID parts,
and a plain-text rendering generated from the HTML.

The stored HTML refers to images as `cid:sig-<pk>`; the editor shows them through a URL of
ours (`image_prefix` + `<pk>/`), so both forms are accepted here and stored as the first.
Pasted `data:` images become uploaded images; remote images are refused (mail clients block
them, and fetching them would let anyone make the server call any address).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from html.parser import HTMLParser

import nh3
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.channels.models import Channel
from atende.connectors.email.compose import Draft, compose
from atende.connectors.email.config import EmailSettings, InlineImage
from atende.connectors.email.models import SignatureImage
from atende.connectors.email.signature_images import (
    ImageRefused,
    delete_images,
    images_of,
    sniff,
    store_image,
)
from atende.ids import parse_id

TAGS = {"p", "div", "br", "span", "strong", "b", "em", "i", "u", "s", "a", "img",
        "h1", "h2", "h3", "blockquote", "sub", "sup"}
ATTRIBUTES = {"*": {"style"}, "a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
# Mail clients ignore classes and style sheets: formatting travels in style attributes.
STYLE_PROPERTIES = {"color", "background-color", "font-size", "text-align", "font-weight",
                    "font-style", "text-decoration"}
# A declaration's value: colours, sizes and keywords, never a function but rgb()/rgba().
SAFE_VALUE = re.compile(r"^(?:[#\w\s.,%-]|rgba?\([\d\s.,%]+\))+$")
LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")
STORED_CID = re.compile(r"^cid:sig-(\d+)$")
DATA_URI = re.compile(r"^data:[^,;]*(;[^,]*)?,", re.IGNORECASE)
MAX_HTML = 200_000
MAX_IMAGES = 10  # every mail of the channel carries them all
KEEP_UNUSED_IMAGES = timedelta(days=1)  # an upload may still be in an unsaved editor


class SignatureRefused(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Signature:
    html: str
    text: str
    images: tuple[InlineImage, ...] = ()

    @property
    def stored_images(self) -> list[dict[str, str]]:
        return [{"cid": i.cid, "content_type": i.content_type, "storage_name": i.storage_name}
                for i in self.images]


def clean_style(value: str) -> str:
    kept = []
    for declaration in value.split(";"):
        name, sep, val = declaration.partition(":")
        name, val = name.strip().lower(), val.strip()
        if sep and name in STYLE_PROPERTIES and SAFE_VALUE.match(val):
            kept.append(f"{name}: {val}")
    return "; ".join(kept)


@dataclass
class _Images:
    """What the sanitiser found in the `src` of the images."""

    channel: Channel
    image_prefix: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    stored: set[int] = field(default_factory=set)
    pasted: list[tuple[str, bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def resolve(self, src: str) -> str | None:
        pk = self._stored_pk(src)
        if pk is not None:
            self.stored.add(pk)
            return f"cid:sig-{pk}"
        if DATA_URI.match(src):
            return self._pasted(src)
        self.errors.append(_("Images from other sites are blocked by most mail programs: "
                             "upload the image instead."))
        return None

    def _stored_pk(self, src: str) -> int | None:
        match = STORED_CID.match(src)
        if match:
            return int(match.group(1))
        if self.image_prefix and src.startswith(self.image_prefix):
            return parse_id(src[len(self.image_prefix):].strip("/"))
        return None

    def _pasted(self, src: str) -> str | None:
        header, _sep, payload = src.partition(",")
        try:
            data = base64.b64decode(payload, validate=False) if ";base64" in header.lower() \
                else b""
            sniff(data)
        except (binascii.Error, ValueError) as exc:
            message = str(exc) if isinstance(exc, ImageRefused) else \
                _("A pasted image could not be read: upload it instead.")
            self.errors.append(message)
            return None
        placeholder = f"cid:new-{self.token}-{len(self.pasted)}"
        self.pasted.append((placeholder, data))
        return placeholder


def prepare(channel: Channel, html: str, image_prefix: str = "", *,
            store: bool = False) -> Signature:
    """The sanitised signature, its images and its text. `store=True` keeps pasted images
    (inside the caller's transaction); otherwise they stay in memory for a preview.
    Raises SignatureRefused with the reasons, in words for the administrator."""
    if len(html) > MAX_HTML:
        raise SignatureRefused([_("The signature is too long.")])
    images = _Images(channel, image_prefix)

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "style":
            return clean_style(value) or None
        if tag == "img" and attribute == "src":
            return images.resolve(value.strip())
        if tag == "a" and attribute == "href":
            return value if value.strip().lower().startswith(LINK_SCHEMES) else None
        return value

    cleaned = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES,
                        attribute_filter=attribute_filter,
                        filter_style_properties=STYLE_PROPERTIES,
                        url_schemes={"http", "https", "mailto", "tel", "cid", "data"})
    found = images_of(channel, images.stored)
    if found.keys() != images.stored:
        images.errors.append(_("An image of the signature no longer exists: insert it again."))
    if len(images.stored) + len(images.pasted) > MAX_IMAGES:
        images.errors.append(_("A signature can have at most %(count)d images.")
                             % {"count": MAX_IMAGES})
    if images.errors:
        raise SignatureRefused(list(dict.fromkeys(images.errors)))
    inline = [InlineImage(f"sig-{pk}", row.content_type, row.storage_name)
              for pk, row in sorted(found.items())]
    for index, (placeholder, data) in enumerate(images.pasted):
        if store:
            row = store_image(channel, data)
            image = InlineImage(f"sig-{row.pk}", row.content_type, row.storage_name)
        else:
            image = InlineImage(f"new-{index}", sniff(data)[0], data=data)
        inline.append(image)
        cleaned = cleaned.replace(f'src="{placeholder}"', f'src="cid:{image.cid}"')
    text = html_to_text(cleaned)
    if not text.strip() and not inline:
        return Signature("", "")
    return Signature(cleaned, text, tuple(inline))


@transaction.atomic
def save_signature(channel: Channel, html: str, image_prefix: str = "") -> Signature:
    """Store the channel's signature (HTML, text, images); images no signature uses any
    more are deleted once they are a day old."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    signature = prepare(channel, html, image_prefix, store=True)
    channel.settings = {**(channel.settings or {}), "signature_html": signature.html,
                        "signature_text": signature.text,
                        "signature_images": signature.stored_images}
    channel.save(update_fields=["settings"])
    used = [int(i.cid.removeprefix("sig-")) for i in signature.images]
    stale = (SignatureImage.objects.for_org(channel.organization_id)
             .filter(channel=channel, created_at__lt=timezone.now() - KEEP_UNUSED_IMAGES)
             .exclude(pk__in=used))
    delete_images(list(stale))
    return signature


def for_editor(html: str, image_prefix: str) -> str:
    """The stored signature with its images pointing at our URL, for the editor to show."""
    return re.sub(r'src="cid:sig-(\d+)"', lambda m: f'src="{image_prefix}{m.group(1)}/"', html)


def display_html(html: str) -> str:
    """A refused signature, safe to put back into the editor (its bad images dropped)."""
    def styles_only(_tag: str, attribute: str, value: str) -> str | None:
        return (clean_style(value) or None) if attribute == "style" else value

    return nh3.clean(html[:MAX_HTML], tags=TAGS, attributes=ATTRIBUTES,
                     attribute_filter=styles_only, filter_style_properties=STYLE_PROPERTIES)


SAMPLE_SUBJECT = "[#TKT-000123] Pedido 4521"


def preview(channel: Channel, signature: Signature) -> tuple[str, str]:
    """The HTML and the text a customer receives with this signature, composed by the same
    code as every outbound mail; inline images become data: URIs so the sandboxed preview
    shows them without a request."""
    cfg = replace(EmailSettings.of(channel), signature_html=signature.html,
                  signature_text=signature.text, signature_images=signature.images)
    sample = _("Hello Maria,\n\nYour order left our warehouse today and should arrive in "
               "three working days.\n\nAnything else, just answer this mail.")
    mail = compose(cfg, Draft(to="maria@example.com", subject=SAMPLE_SUBJECT, text=sample),
                   f"preview@{cfg.domain}")
    html_part, text_part = mail.get_body(("html",)), mail.get_body(("plain",))
    html = html_part.get_content() if html_part is not None else ""
    for part in mail.walk():
        cid = (part["Content-ID"] or "").strip("<>")
        if cid and part.get_content_maintype() == "image":
            payload = base64.b64encode(part.get_content()).decode()
            html = html.replace(f'"cid:{cid}"', f'"data:{part.get_content_type()};base64,'
                                                f'{payload}"')
    return html, text_part.get_content() if text_part is not None else ""


BLOCKS = {"p", "div", "h1", "h2", "h3", "blockquote", "li", "tr"}


class _TextRenderer(HTMLParser):
    """HTML → the plain-text alternative: blocks and <br> become lines, a link keeps its
    address after its words, an image its alternative text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in BLOCKS:
            self._break()
        elif tag == "br":
            self.lines.append("")
        elif tag == "a":
            self.links.append(values.get("href") or "")
        elif tag == "img" and values.get("alt"):
            self._write(f"[{values['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self._break()
        elif tag == "a" and self.links:
            href = self.links.pop()
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            if href and shown not in self.lines[-1]:
                self._write(f" <{shown}>")

    def handle_data(self, data: str) -> None:
        self._write(re.sub(r"\s+", " ", data))

    def _write(self, text: str) -> None:
        line = self.lines[-1]
        self.lines[-1] = line + (text.lstrip() if not line else text)

    def _break(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def text(self) -> str:
        lines = [line.rstrip() for line in self.lines]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def html_to_text(html: str) -> str:
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    return renderer.text()
