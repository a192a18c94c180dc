"""How an inbound message body shows in the timeline.

The stored HTML is already sanitised (nh3); here it is cleaned once more, then:
- remote images lose their `src` (kept in `data-remote-src`) unless the agent allowed
  them for that message, so opening a ticket never tells a sender it was read;
- `cid:` images point at the stored attachment with the same content (agents only);
- the quoted history of a reply is folded behind a `<details>` toggle.
Every piece goes through nh3 as the last step, so a rewrite can never let markup through.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import nh3
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from atende.tickets.models import Attachment

_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "img": {*nh3.ALLOWED_ATTRIBUTES["img"],
                                                 "data-remote-src"}}
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)  # nh3 escapes ">" inside attributes
_SRC = re.compile(r'\ssrc="([^"]*)"')
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
# Where the quoted history of a reply starts (HTML from mail clients, pt-BR and English):
# a quote block or separator, or an attribution ("On … wrote:", "De: … Enviado:") found
# from its end, looking back a bounded window (a regex scanning forward from every "On"
# is quadratic on hostile mail).
_HTML_QUOTE = re.compile(
    r"<blockquote\b|-{2,}\s*(?:Original Message|Mensagem original)\s*-{2,}", re.IGNORECASE)
_ATTRIBUTIONS = (
    (re.compile(r"\b(?:wrote|escreveu)\s*:", re.IGNORECASE),
     re.compile(r"\b(?:On|Em)\s", re.IGNORECASE)),
    (re.compile(r"\b(?:Sent|Enviad[ao]|Date|Data):", re.IGNORECASE),
     re.compile(r"\b(?:From|De):", re.IGNORECASE)),
)
LOOK_BACK = 600  # characters (tags included) between an attribution's start and end
MAX_TRIES = 20
_TEXT_QUOTE = re.compile(
    r"^(?:>"
    r"|-{2,}\s*(?:Original Message|Mensagem original)\s*-{2,}"
    r"|(?:On|Em)\s.{1,300}(?:wrote|escreveu)\s*:\s*$"
    r"|(?:From|De):\s.*\n(?:.*\n){0,3}?(?:Sent|Enviad[ao]|Date|Data):)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class Body:
    html: SafeString
    remote_images: int = 0
    remote_origins: set[str] = field(default_factory=set)
    inline_ids: set[int] = field(default_factory=set)  # attachments shown in the body


def render_html(stored: str, *, attachments: Iterable[Attachment], cids: dict[str, str],
                allow_remote: bool) -> Body:
    by_sha = {a.sha256: a.pk for a in attachments}
    inline = {cid: by_sha[sha] for cid, sha in cids.items() if sha in by_sha}
    body = Body(mark_safe(""))
    clean = nh3.clean(stored, url_schemes=nh3.ALLOWED_URL_SCHEMES | {"cid"})
    head, quoted = _split(clean, _html_quote_start(clean), has_content=_has_html_content)

    def finish(part: str) -> str:
        part = _IMG.sub(lambda m: _image(m.group(0), inline, allow_remote, body), part)
        return nh3.clean(part, attributes=_ATTRIBUTES)

    body.html = _fold(finish(head), finish(quoted) if quoted else "")
    return body


def render_text(text: str) -> Body:
    found = _TEXT_QUOTE.search(text)
    head, quoted = _split(text, found.start() if found else None,
                          has_content=lambda s: bool(s.strip()), is_html=False)
    return Body(_fold(linebreaksbr(head, autoescape=True),
                      linebreaksbr(quoted, autoescape=True) if quoted else ""))


def _html_quote_start(content: str) -> int | None:
    starts = [m.start() for m in [_HTML_QUOTE.search(content)] if m is not None]
    for end_pattern, start_pattern in _ATTRIBUTIONS:
        for tries, end in enumerate(end_pattern.finditer(content)):
            if tries >= MAX_TRIES or (starts and end.start() > min(starts)):
                break
            window = start_pattern.finditer(content, max(0, end.start() - LOOK_BACK),
                                            end.start())
            begin = max((m.start() for m in window), default=None)  # the nearest one
            if begin is not None:
                starts.append(begin)
                break
    return min(starts) if starts else None


def _split(content: str, start: int | None, *,
           has_content: Callable[[str], bool], is_html: bool = True) -> tuple[str, str]:
    if start is None:
        return content, ""
    if is_html:
        start = _before_opening_tags(content, start)
    if not has_content(content[:start]):
        return content, ""  # nothing but a quote: show it all
    return content[:start], content[start:]


def _before_opening_tags(content: str, start: int) -> int:
    """"<p>On … wrote:" folds together with its <p> (at most a few tags back)."""
    for _step in range(10):
        i = start
        while i > 0 and content[i - 1].isspace():
            i -= 1
        lt = content.rfind("<", 0, i)
        if i == 0 or content[i - 1] != ">" or lt < 0 or not content[lt + 1:lt + 2].isalpha():
            return start
        start = lt
    return start


def _has_html_content(fragment: str) -> bool:
    return "<img" in fragment or bool(html_lib.unescape(nh3.clean(fragment, tags=set())).strip())


def _fold(head: str, quoted: str) -> SafeString:
    if not quoted:
        return mark_safe(head)  # noqa: S308 - nh3 output or escaped text
    summary = escape(_("Show quoted text"))
    return mark_safe(  # noqa: S308 - both parts are nh3 output or escaped text
        f'{head}<details class="quoted"><summary>{summary}</summary>{quoted}</details>')


def _image(tag: str, inline: dict[str, int], allow_remote: bool, body: Body) -> str:
    found = _SRC.search(tag)
    if found is None:
        return tag
    url = html_lib.unescape(found.group(1)).strip()
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "cid":
        pk = inline.get(url[4:].strip("<>"))
        if pk is None:
            return tag.replace(found.group(0), "")
        body.inline_ids.add(pk)
        src = reverse("workspace:attachment", args=[pk]) + "?inline=1"
        return tag.replace(found.group(0), f' src="{escape(src)}"')
    if scheme not in ("http", "https"):
        return tag
    body.remote_images += 1
    origin = _origin(url)
    if allow_remote and origin:
        body.remote_origins.add(origin)
        return tag
    return tag.replace(found.group(0), f' data-remote-src="{found.group(1)}"')


def _origin(url: str) -> str:
    """`scheme://host[:port]` for a CSP source list; empty when it is anything odder."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.scheme not in ("http", "https") or not _HOST.match(netloc):
        return ""
    return f"{parts.scheme}://{netloc.lower()}"
