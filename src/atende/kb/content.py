"""Article HTML: sanitised with nh3 on the way in; its text for the index and snippets."""

from __future__ import annotations

import html

import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "code", "pre", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                      "th": {"colspan", "rowspan"}, "td": {"colspan", "rowspan"}}
BLOCKS = ("</p>", "<br>", "</li>", "</h2>", "</h3>", "</h4>", "</tr>", "</blockquote>")


def sanitise(body: str) -> str:
    """The article's HTML with only formatting kept: no script, style, event handler or
    `javascript:` link; links get rel="noopener noreferrer"."""
    return nh3.clean(body, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")


def plain_text(clean_html: str) -> str:
    spaced = clean_html
    for end in BLOCKS:
        spaced = spaced.replace(end, end + "\n")
    text = html.unescape(nh3.clean(spaced, tags=set()))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
