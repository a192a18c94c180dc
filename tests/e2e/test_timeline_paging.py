"""A long conversation in a real browser: the ticket opens on its newest entries, "Show
older messages" loads the earlier ones, and a live update keeps what was loaded."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import LIVE, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _write(site: Site, n: int) -> dict[str, object]:
    response = httpx.post(
        f"{site.url}/api/v1/channels/{site.channel_id}/messages",
        headers={"Authorization": f"Bearer {site.key}"},
        json={"message_id": f"long-{n}", "conversation_id": "long-conversation",
              "contact": {"id": "cust-long", "name": "Dora Lima"},
              "subject": "Conversa longa", "text": f"Mensagem número {n}."},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, object] = response.json()
    return body


def test_long_timeline_pages_and_keeps_older_entries_live(browser: Browser, site: Site) -> None:
    first = _write(site, 0)
    for n in range(1, 60):
        _write(site, n)
    ana = sign_in(browser, site, "ana@loja.test", "pt-BR")
    ana.goto(f"/tickets/{first['ticket_id']}/")
    timeline = ana.locator("#tab-timeline")
    expect(timeline).to_contain_text("Mensagem número 59.")
    expect(timeline).not_to_contain_text("Mensagem número 0.")
    # A live refresh first: the button it brings must work too.
    _write(site, 60)
    expect(timeline).to_contain_text("Mensagem número 60.", timeout=LIVE)
    ana.get_by_role("button", name="Mostrar mensagens anteriores").click()
    expect(timeline).to_contain_text("Mensagem número 0.")
    expect(ana.get_by_role("button", name="Mostrar mensagens anteriores")).to_have_count(0)

    # Another live refresh keeps the older page loaded.
    _write(site, 61)
    expect(timeline).to_contain_text("Mensagem número 61.", timeout=LIVE)
    expect(timeline).to_contain_text("Mensagem número 0.")
    assert timeline.locator(".entry-inbound").count() == 62
