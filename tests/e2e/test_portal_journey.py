"""The customer portal in a real browser against a real `atende web`, mail through a real
SMTP server: a customer signs up, confirms from the mail, opens a ticket with a file and
gets its protocol; it appears live in the agent's queue with the Portal badge; the agent
answers, the customer is mailed, reads the answer and comments back."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PASSWORD
from tests.fakes import processes
from tests.fakes.smtp_sink import SmtpSink

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
LIVE = 5_000  # ms
SEED = """
import json
from atende.connectors.portal.channels import create_portal_channel
from atende.connectors.portal.models import Category
from atende.tenancy.models import Membership, Organization, Role, Service, User
org = Organization.objects.create(name="Loja Exemplo", slug="loja")
service = Service.objects.create(organization=org, name="Suporte")
ana = User.objects.create_user("ana@loja.test", "PASSWORD", name="Ana Lima")
Membership.objects.create(organization=org, user=ana, role=Role.ADMIN).services.add(service)
create_portal_channel(org, name="Portal", service=service)
Category.objects.create(organization=org, name="Entrega")
print(json.dumps({"org": org.pk}))
"""


@dataclass
class PortalSite:
    url: str
    sink: SmtpSink

    def mail_link(self, to: str, fragment: str, count: int, timeout: float = 15) -> str:
        """The link containing `fragment` in the `count`-th mail to `to`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = [d.message() for d in self.sink.deliveries if to in d.rcpt_tos]
            if len(mails) >= count:
                body = mails[count - 1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
                return next(w for w in body.split() if fragment in w and "://" in w)
            time.sleep(0.1)
        raise AssertionError(f"no mail #{count} to {to}")


@pytest.fixture(scope="module")
def portal_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalSite]:
    base: Path = tmp_path_factory.mktemp("portal-e2e")
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    with SmtpSink() as sink:
        env = processes.profile_env(
            base / "data", ATENDE_TASKS_IMMEDIATE="1", ATENDE_PUBLIC_URL=url,
            ATENDE_SMTP_HOST="127.0.0.1", ATENDE_SMTP_PORT=str(sink.port),
            ATENDE_SMTP_STARTTLS="0")
        processes.manage(env, "migrate", "--noinput")
        json.loads(processes.run_django(SEED.replace("PASSWORD", PASSWORD), env))
        web = processes.start_web(env, base, port=port)
        try:
            yield PortalSite(web.url, sink)
        finally:
            web.stop()


def _axe(page: Page) -> None:
    """No serious or critical accessibility issue (axe-core)."""
    results = Axe().run(page)
    bad = [v["id"] for v in results.response["violations"]
           if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page.url}: {bad}"


def test_sign_up_open_a_ticket_answer_and_comment_back(browser: Browser,
                                                       portal_site: PortalSite) -> None:
    site = portal_site
    agent = browser.new_context(base_url=site.url, locale="en-US").new_page()
    agent.goto("/login/")
    agent.locator("input[name=username]").fill("ana@loja.test")
    agent.locator("input[name=password]").fill(PASSWORD)
    agent.locator("button[type=submit].primary").click()
    expect(agent.locator("#queue-live")).to_be_visible()

    customer = browser.new_context(base_url=site.url, locale="en-US").new_page()
    customer.goto("/p/loja/signup/")
    _axe(customer)
    customer.get_by_label("Your name").fill("Carla Dias")
    customer.get_by_label("E-mail").fill("carla@example.com")
    customer.get_by_role("button", name="Send the confirmation link").click()
    expect(customer.locator("h1")).to_have_text("Check your e-mail")

    customer.goto(site.mail_link("carla@example.com", "/verify/", 1))
    customer.get_by_label("Password").fill("a-long-portal-password-1")
    customer.get_by_role("button", name="Save the password and sign in").click()
    expect(customer.get_by_role("heading", name="My tickets")).to_be_visible()
    _axe(customer)

    customer.get_by_role("link", name="New ticket").first.click()
    _axe(customer)
    customer.get_by_label("Subject").fill("Pedido 4512 não chegou")
    customer.get_by_label("Category").select_option("Entrega")
    customer.get_by_label("Priority").select_option("high")
    customer.get_by_label("Description").fill("Comprei dia 3 e nada ainda.")
    customer.get_by_label("Attachments").set_input_files(
        {"name": "nota.txt", "mimeType": "text/plain", "buffer": b"Nota fiscal 123"})
    customer.get_by_role("button", name="Open the ticket").click()
    protocol = customer.locator("[data-protocol]").inner_text()
    assert re.fullmatch(r"TKT-\d{6}", protocol)
    expect(customer.locator(".notice")).to_contain_text(f"protocol number is {protocol}")
    expect(customer.get_by_role("link", name="nota.txt")).to_be_visible()
    _axe(customer)

    row = agent.locator("tr.ticket-row", has_text=protocol)
    expect(row).to_contain_text("Pedido 4512 não chegou", timeout=LIVE)
    expect(row.locator(".badge.channel-portal")).to_have_text("Portal")
    row.get_by_role("link", name=protocol).click()
    agent.keyboard.press("r")
    agent.locator("#composer-text").fill("Olá Carla! Seu pedido sai hoje.")
    agent.locator("#composer-send").click()
    expect(agent.locator("#composer")).to_contain_text("sent")

    answer_link = site.mail_link("carla@example.com", "/tickets/", 2)
    customer.goto(answer_link)
    expect(customer.locator(".entry-outbound")).to_contain_text("Olá Carla! Seu pedido sai hoje.")
    customer.get_by_label("Your comment").fill("Obrigada, fico no aguardo.")
    customer.get_by_role("button", name="Send").click()
    expect(customer.locator(".entry-inbound").last).to_contain_text("Obrigada, fico no aguardo.")
    expect(agent.locator("#tab-timeline")).to_contain_text("Obrigada, fico no aguardo.",
                                                           timeout=LIVE)
