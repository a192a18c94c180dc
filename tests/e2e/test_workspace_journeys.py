"""The agent's day in a real browser: sign in, a ticket created through the API appears
live, answer it (delivered through the API channel's webhook), a colleague's queue shows
the status change live; settings refused to a plain agent; the same in English."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PASSWORD, Site

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
# The README's screenshots are rewritten only on request, so a test run leaves the tree clean.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" \
    if os.environ.get("ATENDE_UPDATE_SCREENSHOTS") == "1" \
    else Path(tempfile.mkdtemp(prefix="atende-screens-"))
LIVE = 5_000  # ms: the issue asks for "within a second"; slack for a loaded CI machine


def sign_in(browser: Browser, site: Site, email: str, locale: str, *,
            screenshot: str = "") -> Page:
    context = browser.new_context(base_url=site.url, locale=locale,
                                  viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto("/login/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    if screenshot:
        page.screenshot(path=str(SCREENSHOTS / screenshot))
    page.locator("button[type=submit].primary").click()
    expect(page.locator("#queue-live")).to_be_visible()
    return page


def wait_for(predicate: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_portuguese_journey_live_queue_answer_through_webhook_and_status_in_colleagues_queue(
    browser: Browser, site: Site
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ana = sign_in(browser, site, "ana@loja.test", "pt-BR", screenshot="sign-in.png")
    bruno = sign_in(browser, site, "bruno@loja.test", "pt-BR")
    expect(ana.get_by_role("link", name="Configurações")).to_be_visible()
    expect(bruno.get_by_role("link", name="Configurações")).to_have_count(0)
    ana.evaluate("window.__noReload = true")
    # Bruno filters and sorts his queue: live updates must keep both.
    bruno.locator("select[name=channel]").select_option("api")
    expect(bruno).to_have_url(re.compile(r"channel=api"))
    bruno.locator("select[name=sort]").select_option("priority")
    expect(bruno).to_have_url(re.compile(r"sort=priority"))

    created = site.customer_writes("Pedido 4512 não chegou", "Comprei dia 3 e nada ainda.")
    row = ana.locator(f"#ticket-row-{created['ticket_id']}")
    expect(row).to_contain_text("Pedido 4512 não chegou", timeout=LIVE)
    expect(row).to_contain_text(created["protocol"])
    expect(row).to_contain_text("API")
    assert ana.evaluate("window.__noReload") is True
    expect(bruno.locator(f"#ticket-row-{created['ticket_id']}")).to_contain_text(
        "Novo", timeout=LIVE)
    # From now on only the changed row is swapped: the list element itself stays.
    bruno.evaluate("document.getElementById('queue-live').dataset.kept = '1'")
    ana.screenshot(path=str(SCREENSHOTS / "queue.png"))
    expect(bruno).to_have_url(re.compile(r"/\?view=open&channel=api&sort=priority$"))
    expect(bruno.locator("select[name=sort]")).to_have_value("priority")

    # Keyboard: j selects the first row, Enter opens it.
    ana.keyboard.press("j")
    ana.keyboard.press("Enter")
    expect(ana.locator("h1")).to_contain_text("Pedido 4512 não chegou")
    ana.keyboard.press("r")
    ana.locator("#composer-text").fill("Olá! Seu pedido sai hoje para entrega.")
    ana.locator("#composer-send").click()
    expect(ana.locator("#composer")).to_contain_text("Resposta enviada.")

    def outbound() -> list[Any]:
        # Only JSON bodies: one loaded full run saw a body-less request on the receiver
        # (not reproduced alone); this journey is about the answer that must arrive.
        return [r.json() for r in list(site.receiver.requests)
                if r.body and r.json().get("event") == "message.outbound"]

    wait_for(lambda: bool(outbound()))
    delivered = outbound()[0]
    assert delivered["text"] == "Olá! Seu pedido sai hoje para entrega."
    assert delivered["conversation_id"] == f"c-{site.counter}"
    timeline = ana.locator("#tab-timeline")
    expect(timeline).to_contain_text("Olá! Seu pedido sai hoje para entrega.", timeout=LIVE)
    expect(timeline.locator(".entry-outbound .delivery")).to_have_text("Enviada", timeout=LIVE)

    # The answer opened the ticket; then Ana sets it pending: Bruno's queue follows live.
    bruno_row = bruno.locator(f"#ticket-row-{created['ticket_id']}")
    expect(bruno_row).to_contain_text("Aberto", timeout=LIVE)
    ana.locator("form.actions select[name=status]").select_option("pending")
    ana.locator("form.actions button[type=submit]").click()
    expect(ana.locator("#ticket-live [data-field=status]")).to_have_text("Pendente")
    expect(bruno_row).to_contain_text("Pendente", timeout=LIVE)
    expect(bruno.locator("#queue-live[data-kept='1']")).to_have_count(1)
    expect(bruno.locator(".view-tab[data-view=pending] .count")).to_have_text("1")
    ana.locator(".tab[data-tab=tracking]").click()
    expect(ana.locator("#tab-tracking")).to_contain_text("alterou status de Aberto para Pendente")
    ana.locator(".tab[data-tab=timeline]").click()
    ana.screenshot(path=str(SCREENSHOTS / "ticket.png"), full_page=True)

    # A plain agent cannot reach the settings.
    response = bruno.goto("/settings/")
    assert response is not None and response.status == 403
    expect(bruno.locator("h1")).to_have_text("Você não pode abrir esta página")


def test_english_journey_note_collision_and_finalize(browser: Browser, site: Site) -> None:
    ana = sign_in(browser, site, "ana@loja.test", "en-US")
    expect(ana.locator(".view-tab.active")).to_contain_text("All open")
    created = site.customer_writes("Refund for order 99", "I want my money back",
                                   name="Dan Brown")
    row = ana.locator(f"#ticket-row-{created['ticket_id']}")
    expect(row).to_contain_text("Refund for order 99", timeout=LIVE)
    row.locator("a.protocol").click()
    expect(ana.locator("h1")).to_contain_text("Refund for order 99")

    bruno = sign_in(browser, site, "bruno@loja.test", "en-US")
    bruno.goto(f"/tickets/{created['ticket_id']}/")
    expect(ana.locator("#presence")).to_contain_text("Bruno Reis is also viewing",
                                                     timeout=15_000)

    # Bruno writes a note while Ana drafts: Ana is warned before her answer goes out.
    ana.locator("#composer-text").fill("Refund approved.")
    bruno.keyboard.press("n")
    bruno.locator("#composer-text").fill("Check the payment first")
    bruno.locator("#composer-send").click()
    expect(bruno.locator("#composer")).to_contain_text("Internal note saved.")
    expect(ana.locator("#tab-timeline .entry-note")).to_contain_text(
        "Check the payment first", timeout=LIVE)
    ana.locator("#composer-send").click()
    expect(ana.locator("#composer")).to_contain_text("This ticket changed since you started")
    ana.get_by_role("button", name="Send anyway").click()
    expect(ana.locator("#composer")).to_contain_text("Answer sent.")

    ana.locator("#finalization-tag").select_option(label="Resolvido no primeiro contato")
    ana.locator("#finalize button[type=submit]").click()
    expect(ana.locator("#queue-live")).to_be_visible()
    expect(ana.locator(f"#ticket-row-{created['ticket_id']}")).to_have_count(0)
    ana.goto("/?view=resolved")
    expect(ana.locator(f"#ticket-row-{created['ticket_id']}")).to_contain_text("Resolved")
