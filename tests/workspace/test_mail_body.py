"""How inbound mail bodies show: remote images held back, cid images, quoted history."""

from __future__ import annotations

import time

import pytest

from atende.tickets.models import Attachment
from atende.workspace.mail_body import render_html, render_text

PIXEL = '<img src="https://tracker.example.net/p.gif?u=1&amp;m=2" alt="logo">'


def html(stored: str, allow: bool = False, cids: dict[str, str] | None = None,
         attachments: list[Attachment] | None = None) -> tuple[str, object]:
    body = render_html(stored, attachments=attachments or [], cids=cids or {},
                       allow_remote=allow)
    return str(body.html), body


def test_remote_image_keeps_its_url_but_is_never_fetched_until_allowed() -> None:
    shown, body = html(f"<p>Oi{PIXEL}</p>")
    assert ' src="' not in shown
    assert 'data-remote-src="https://tracker.example.net/p.gif?u=1&amp;m=2"' in shown
    assert body.remote_images == 1 and body.remote_origins == set()  # type: ignore[attr-defined]
    allowed, body = html(f"<p>Oi{PIXEL}</p>", allow=True)
    assert 'src="https://tracker.example.net/p.gif?u=1&amp;m=2"' in allowed
    assert body.remote_origins == {"https://tracker.example.net"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", [
    "https://a.example.com;script-src*/x.png",  # would inject into the CSP header
    "https://user@evil.example.com:99999999/x.png",
    "https:///nohost.png",
])
def test_odd_image_hosts_never_widen_the_policy(url: str) -> None:
    shown, body = html(f'<img src="{url}">', allow=True)
    assert body.remote_origins == set()  # type: ignore[attr-defined]
    assert "<script" not in shown


def test_markup_stays_sanitised_through_the_rewrites() -> None:
    shown, _b = html('<p onclick="x()">a<script>alert(1)</script>'
                     '<img src="javascript:alert(1)" onerror="x()"></p>'
                     '<blockquote><img src="http://h.example/a.png" onerror="y()"></blockquote>')
    assert "script" not in shown and "onclick" not in shown and "onerror" not in shown
    assert "javascript:" not in shown


def test_cid_image_points_at_the_stored_attachment_and_unknown_cid_is_dropped() -> None:
    part = Attachment(pk=41, sha256="ab" * 32, filename="logo.png", content_type="image/png")
    shown, _b = html('<p>Logo <img src="cid:logo@x" alt="l"><img src="cid:missing"></p>',
                     cids={"logo@x": "ab" * 32, "missing": "cd" * 32}, attachments=[part])
    assert 'src="/attachments/41/?inline=1"' in shown
    assert "cid:" not in shown and shown.count("<img") == 2


@pytest.mark.parametrize("quote", [
    "<blockquote><p>Old text</p></blockquote>",
    "<p>Em seg., 3 de jun. de 2026 às 10:00, Ana &lt;<a href=\"mailto:a@x.com\">a@x.com</a>"
    "&gt; escreveu:</p><p>Old text</p>",
    "<div>On Mon, Jun 3, 2026 at 10:00 AM Ana &lt;a@x.com&gt; wrote:<br>Old text</div>",
    "<p>-----Original Message-----<br>From: Ana<br>Old text</p>",
    "<div><b>De:</b> Ana &lt;a@x.com&gt;<br><b>Enviado:</b> segunda-feira<br>Old text</div>",
])
def test_quoted_history_is_folded_behind_a_toggle(quote: str) -> None:
    shown, _b = html(f"<div><p>New answer</p>{quote}</div>")
    head, _sep, folded = shown.partition("<details")
    assert "New answer" in head and "Old text" not in head
    assert "Old text" in folded and "<summary>" in folded


def test_an_earlier_on_in_the_answer_is_not_taken_for_the_attribution() -> None:
    shown, _b = html("<p>On Monday my order came broken.</p>"
                     "<p>On Tue, 3 Jun 2026, Ana wrote:</p><p>Old text</p>")
    head, _sep, folded = shown.partition("<details")
    assert "On Monday my order came broken." in head and "Old text" in folded


def test_hostile_attribution_spam_stays_fast() -> None:
    started = time.perf_counter()
    html("<p>" + "On a " * 20_000 + "From: x " * 20_000 + "wrote: Sent:" + "</p>")
    assert time.perf_counter() - started < 1.0


def test_a_message_that_is_only_a_quote_is_shown_whole() -> None:
    shown, _b = html("<blockquote>Only old text</blockquote>")
    assert "<details" not in shown and "Only old text" in shown


def test_plain_text_quotes_fold_and_text_is_escaped() -> None:
    shown = str(render_text("Obrigada! <b>\n\nEm 3/6/2026, Ana escreveu:\n> pedido\n> x").html)
    head, _sep, folded = shown.partition("<details")
    assert "Obrigada! &lt;b&gt;" in head and "pedido" not in head
    assert "escreveu" in folded and "&gt; pedido" in folded
    assert "<details" in str(render_text("Hi\n> quoted").html)
    assert "<details" not in str(render_text("No quote here\nOn time.").html)
