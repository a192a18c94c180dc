"""Settings in a real browser (CORE-10): an administrator creates a service, an API key (the
secret shown once, then only its prefix; the key really opens the API), a tag and a
finalization tag; a plain agent gets the 403 page. Every page beats presence."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_administrator_configures_and_plain_agent_is_refused(browser: Browser,
                                                             site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ana = sign_in(browser, site, "ana@loja.test", "en-US")
    # workspace.js sends the presence heartbeat as soon as a page opens.
    with ana.expect_request(lambda r: r.url.endswith("/heartbeat/")
                            and r.method == "POST") as beat:
        ana.get_by_role("link", name="Settings").click()
    assert beat.value.response() is not None and beat.value.response().status == 200  # type: ignore[union-attr]
    expect(ana.locator("h1")).to_have_text("Settings")
    ana.screenshot(path=str(SCREENSHOTS / "settings.png"))

    nav = ana.locator(".settings-nav")
    nav.get_by_role("link", name="Services").click()
    ana.get_by_role("link", name="New service").click()
    ana.get_by_label("Name").fill("Financeiro")
    ana.get_by_role("button", name="Save").click()
    expect(ana.locator(".flash")).to_contain_text("Saved.")
    expect(ana.locator(".settings-table")).to_contain_text("Financeiro")

    nav.get_by_role("link", name="API keys").click()
    ana.get_by_label("Name").fill("ERP integration")
    ana.get_by_role("button", name="Create key").click()
    secret = ana.locator("[data-secret]").inner_text().strip()
    match = re.fullmatch(r"atk_([0-9a-f]+)_\S+", secret)
    assert match, secret
    prefix = match.group(1)
    tickets = httpx.get(f"{site.url}/api/v1/tickets",
                        headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert tickets.status_code == 200, tickets.text
    # Shown once: the next visit shows only the prefix. (A GET: reloading the POST's answer
    # would resubmit the form and create a second key — the browser asks first.)
    nav.get_by_role("link", name="API keys").click()
    expect(ana.locator("[data-secret]")).to_have_count(0)
    row = ana.locator(".settings-table tr", has_text="ERP integration")
    expect(row).to_contain_text(f"atk_{prefix}…")
    assert secret not in ana.content()
    ana.screenshot(path=str(SCREENSHOTS / "settings-api-keys.png"))

    nav.get_by_role("link", name="Tags", exact=True).click()
    ana.get_by_role("link", name="New tag").click()
    ana.get_by_label("Name").fill("vip")
    ana.get_by_role("button", name="Save").click()
    expect(ana.locator(".settings-table")).to_contain_text("vip")

    nav.get_by_role("link", name="Finalization tags").click()
    ana.get_by_role("link", name="New finalization tag").click()
    ana.get_by_label("Name").fill("Reembolso concedido")
    ana.get_by_role("button", name="Save").click()
    expect(ana.locator(".settings-table")).to_contain_text("Reembolso concedido")

    bruno = sign_in(browser, site, "bruno@loja.test", "en-US")
    expect(bruno.get_by_role("link", name="Settings")).to_have_count(0)
    for path in ("/settings/", "/settings/api-keys/", "/settings/services/new/"):
        response = bruno.goto(path)
        assert response is not None and response.status == 403, path
        expect(bruno.locator("body")).to_contain_text("You cannot open this page")
