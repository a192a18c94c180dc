"""An invitation in a real browser: an administrator invites someone who already works for
another organisation; her name stays hers; she accepts from the banner and edits her own
name on her profile."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import PASSWORD, Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in
from tests.fakes import processes

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CAROL = """
from atende.tenancy.models import Membership, Organization, Role, User
org = Organization.objects.create(name="Outra Loja", slug="outra")
carol = User.objects.create_user("carol@outra.test", "PASSWORD", name="Carol Souza")
Membership.objects.create(organization=org, user=carol, role=Role.AGENT)
"""


def test_an_invited_agent_keeps_her_name_accepts_and_edits_it(browser: Browser,
                                                              site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    processes.run_django(CAROL.replace("PASSWORD", PASSWORD), site.env)
    ana = sign_in(browser, site, "ana@loja.test", "en-US")
    ana.goto("/settings/agents/new/")
    ana.locator("input[name=email]").fill("carol@outra.test")
    ana.locator("input[name=name]").fill("Somebody Else")
    ana.get_by_role("button", name="Save").click()
    row = ana.locator("tr", has_text="carol@outra.test")
    expect(row).to_contain_text("Carol Souza")
    expect(row).to_contain_text("Invited")

    carol = sign_in(browser, site, "carol@outra.test", "en-US")
    carol.get_by_role("link", name="An organisation invited you").click()
    expect(carol.locator("form.invitation")).to_contain_text("Loja Exemplo invites you")
    carol.screenshot(path=str(SCREENSHOTS / "invitations.png"))
    carol.get_by_role("button", name="Accept").click()
    expect(carol.locator("#queue-live")).to_be_visible()
    expect(carol.locator("#org-switch option:checked")).to_have_text("Loja Exemplo")

    carol.locator("a.whoami").click()
    carol.locator("input[name=name]").fill("Carol Souza Lima")
    carol.get_by_role("button", name="Save").click()
    expect(carol.locator(".flash")).to_contain_text("Saved.")
    ana.goto("/settings/agents/")
    expect(ana.locator("tr", has_text="carol@outra.test")).to_contain_text("Carol Souza Lima")
    expect(ana.locator("tr", has_text="carol@outra.test")).to_contain_text("Active")
