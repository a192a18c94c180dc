"""SLA in a real browser (CORE-13): an administrator creates a policy for the API channel;
a customer writes; the queue shows the row's SLA due time and sorts by it, and the ticket
header shows its clocks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_policy_for_a_channel_drives_queue_and_ticket_clocks(browser: Browser,
                                                             site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ana = sign_in(browser, site, "ana@loja.test", "en-US")
    ana.goto("/settings/sla-policies/")
    expect(ana.locator("body")).to_contain_text("No SLA policies yet")
    ana.get_by_role("link", name="New SLA policy").click()
    ana.get_by_label("Name").fill("Loja online: 30 min")
    ana.get_by_label(re.compile(r"^First response \(minutes\)")).fill("30")
    ana.get_by_label(re.compile(r"^Resolution \(minutes\)")).fill("480")
    ana.get_by_label("API: Loja online").check()
    ana.get_by_role("button", name="Save").click()
    expect(ana.locator(".flash")).to_contain_text("Saved.")
    expect(ana.locator(".settings-table")).to_contain_text("Loja online: 30 min")
    ana.screenshot(path=str(SCREENSHOTS / "settings-sla.png"))

    created = site.customer_writes("Pedido atrasado", "Meu pedido não chegou")
    ana.goto("/?sort=sla")
    row = ana.locator(f"#ticket-row-{created['ticket_id']}")
    expect(row.locator(".sla")).to_have_text(re.compile(r"in (29|30) min"))
    expect(ana.locator("select[name=sort]")).to_have_value("sla")
    row.locator("a.protocol").click()
    clocks = ana.locator("[data-field=sla]")
    expect(clocks).to_contain_text(re.compile(r"First response: in (29|30) min"))
    expect(clocks).to_contain_text(re.compile(r"Resolution: in (7|8) h"))
