"""Connecting a Microsoft 365 mailbox in a real browser: the administrator sets up an
e-mail channel with "Microsoft 365" sign-in, clicks "Connect with Microsoft", consents at
the (fake) provider and lands back on the channel screen, connected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_workspace_journeys import SCREENSHOTS
from tests.fakes import processes
from tests.fakes.oauth2_server import FakeOAuth2

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
MAILBOX = "suporte@loja.test"

SEED = """
from atende.tenancy.models import Membership, Organization, Role, Service, User
org = Organization.objects.create(name="Loja Exemplo", slug="loja")
Service.objects.create(organization=org, name="Suporte")
ana = User.objects.create_user("ana@loja.test", "PASSWORD", name="Ana Lima")
Membership.objects.create(organization=org, user=ana, role=Role.ADMIN)
"""

# The provider's endpoints are per-channel settings, not form fields: set them as an
# operator would for a sovereign cloud.
POINT_AT_FAKE = """
from atende.channels.models import Channel
channel = Channel.objects.get(kind="email")
channel.settings = {**channel.settings, "oauth_authorize_url": "AUTHORIZE",
                    "oauth_token_url": "TOKEN"}
channel.save()
print(channel.pk)
"""


@dataclass
class OAuthSite:
    url: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def oauth_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthSite]:
    base: Path = tmp_path_factory.mktemp("e2e-oauth")
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    # The redirect URI is built from the public URL: it must be this server's.
    env = processes.profile_env(base / "data", ATENDE_PUBLIC_URL=url)
    processes.manage(env, "migrate", "--noinput")
    processes.run_django(SEED.replace("PASSWORD", PASSWORD), env)
    web = processes.start_web(env, base, port=port)
    try:
        yield OAuthSite(web.url, env)
    finally:
        web.stop()


def sign_in(browser: Browser, site: OAuthSite) -> Page:
    context = browser.new_context(base_url=site.url, locale="en-US",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login/")
    page.locator("input[name=username]").fill("ana@loja.test")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit].primary").click()
    expect(page.locator("#queue-live")).to_be_visible()
    return page


def test_administrator_connects_a_microsoft_365_mailbox(browser: Browser,
                                                        oauth_site: OAuthSite) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with FakeOAuth2(user=MAILBOX) as provider:
        ana = sign_in(browser, oauth_site)
        ana.goto("/settings/channels/new/email/")
        expect(ana.locator("[data-redirect-uri]")).to_have_text(
            f"{oauth_site.url}/settings/channels/oauth/callback/")
        ana.locator("input[name=name]").fill("Suporte 365")
        ana.locator("input[name=address]").fill(MAILBOX)
        ana.locator("select[name=sign_in]").select_option("microsoft")
        ana.locator("input[name=oauth_client_id]").fill(provider.client_id)
        ana.locator("input[name=oauth_client_secret]").fill(provider.client_secret)
        ana.get_by_role("button", name="Save").click()
        expect(ana.locator("h1")).to_contain_text("Suporte 365")

        channel_id = int(processes.run_django(
            POINT_AT_FAKE.replace("AUTHORIZE", provider.authorize_url)
            .replace("TOKEN", provider.token_url), oauth_site.env).strip())
        ana.goto(f"/settings/channels/{channel_id}/")
        expect(ana.locator("[data-oauth-status]")).to_have_attribute(
            "data-oauth-status", "disconnected")
        ana.screenshot(path=str(SCREENSHOTS / "email-oauth-setup.png"), full_page=True)

        ana.get_by_role("button", name="Connect with Microsoft").click()
        ana.wait_for_url(f"**/settings/channels/{channel_id}/")
        expect(ana.locator(".flash")).to_contain_text(f"connected as {MAILBOX}")
        expect(ana.locator("[data-oauth-status]")).to_contain_text(f"Connected as {MAILBOX}")
        ana.screenshot(path=str(SCREENSHOTS / "email-oauth-connected.png"), full_page=True)
        assert provider.client_secret not in ana.content()
        assert [r["grant_type"] for r in provider.token_requests] == ["authorization_code"]

    check = processes.run_django(
        "import json\nfrom atende.channels.models import Channel\n"
        f"c = Channel.objects.get(pk={channel_id})\n"
        "print(json.dumps({'has_refresh': bool(c.secrets.get('oauth_refresh_token')),"
        " 'account': c.settings.get('oauth_account')}))", oauth_site.env)
    assert json.loads(check) == {"has_refresh": True, "account": MAILBOX}
