"""The e-mail channel's "Processing rules" screen in a real browser (EM-8): from the
channel's settings to a new rule, a validation error explained, a second rule moved above
the first, one deactivated."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in
from tests.fakes import processes

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SEED = """
import json
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Organization
org = Organization.objects.get(slug="loja")
channel = Channel.objects.create(organization=org, kind=ChannelKind.EMAIL, name="Suporte mail",
                                 settings={"address": "suporte@loja.test", "in_protocol": "imap",
                                           "in_host": "127.0.0.1", "in_port": 1})
print(json.dumps({"channel": channel.pk}))
"""


def test_administrator_builds_processing_rules(browser: Browser, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    channel = json.loads(processes.run_django(SEED, site.env))["channel"]
    ana = sign_in(browser, site, "ana@loja.test", "en-US")
    ana.goto(f"/settings/channels/{channel}/")
    ana.get_by_role("link", name="Processing rules").click()
    expect(ana.locator(".empty-state")).to_contain_text("No rules yet")

    ana.get_by_role("link", name="New rule").click()
    ana.locator("#id_name").fill("Origem do app")
    ana.locator("#id_field").select_option("header")
    ana.locator("#id_value").fill("loja-app")
    ana.locator("#id_category").fill("app")
    ana.get_by_role("button", name="Save").click()
    expect(ana.locator(".errorlist")).to_contain_text("Say which header to look at.")
    ana.locator("#id_header_name").fill("X-Origem")
    ana.get_by_role("button", name="Save").click()
    expect(ana.locator(".flash")).to_contain_text("Saved.")

    ana.get_by_role("link", name="New rule").click()
    ana.locator("#id_name").fill("Boletos")
    ana.locator("#id_operator").select_option("regex")
    ana.locator("#id_value").fill(r"segunda via.*boleto")
    ana.locator("#id_priority").select_option("high")
    ana.get_by_role("button", name="Save").click()
    expect(ana.locator(".errorlist")).to_have_count(0)
    rows = ana.locator(".email-rules tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("matches the regular expression")

    rows.nth(1).get_by_role("button", name="Move up").click()
    expect(rows.nth(0)).to_contain_text("Boletos")
    rows.nth(1).get_by_role("button", name="Deactivate").click()
    expect(rows.nth(1)).to_contain_text("Inactive")
    ana.screenshot(path=str(SCREENSHOTS / "settings-email-rules.png"))
