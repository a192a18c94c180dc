"""The notifications of an e-mail channel in a real browser: from the channel's edit page to
its "Notifications" screen, edit the acknowledgement in pt-BR, preview it filled from the
channel's latest ticket (HTMX, the unsaved text), turn it on and save."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import PASSWORD, Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in
from tests.fakes import processes

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SEED = """
import json
from email.message import EmailMessage
from atende.connectors.email.receive import receive
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Membership, Organization, Role, Service, User
org = Organization.objects.create(name="Loja Avisos", slug="loja-avisos")
service = Service.objects.create(organization=org, name="Suporte")
lia = User.objects.create_user("lia@avisos.test", "PASSWORD", name="Lia Prado")
Membership.objects.create(organization=org, user=lia, role=Role.ADMIN)
channel = Channel.objects.create(organization=org, kind=ChannelKind.EMAIL, name="Avisos",
                                 service=service, settings={"address": "avisos@loja.test"})
msg = EmailMessage()
msg["From"] = "Rita Alves <rita@example.com>"
msg["To"] = "avisos@loja.test"
msg["Subject"] = "Entrega atrasada"
msg["Message-ID"] = "<entrega-1@example.com>"
msg.set_content("Minha entrega atrasou.")
receipt = receive(channel, msg.as_bytes())
from atende.tickets.models import Message
ticket = Message.objects.get(pk=receipt.message_id).ticket
print(json.dumps({"channel": channel.pk, "protocol": ticket.protocol}))
"""


def test_edit_preview_and_turn_on_the_acknowledgement(browser: Browser, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seeded = json.loads(processes.run_django(SEED.replace("PASSWORD", PASSWORD), site.env))
    page = sign_in(browser, site, "lia@avisos.test", "en-US")
    page.goto(f"/settings/channels/{seeded['channel']}/")
    page.get_by_role("link", name="Notifications", exact=True).click()
    expect(page.locator("h1")).to_have_text("Notifications of Avisos")

    block = page.locator('#notification-opened [data-language="pt-br"]')
    block.locator("input[name=opened_pt_br_subject]").fill(
        "Chamado {{ ticket.protocol }} aberto, {{ contact.name }}")
    block.get_by_role("button", name="Preview").click()
    preview = block.locator(".notification-preview")
    expect(preview).to_contain_text(
        f"[#{seeded['protocol']}] Chamado {seeded['protocol']} aberto, Rita Alves")
    expect(preview).to_contain_text("Olá Rita Alves")
    page.screenshot(path=str(SCREENSHOTS / "email-notifications-preview.png"), full_page=True)

    page.locator("input[name=opened_enabled]").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved.")
    expect(page.locator("input[name=opened_enabled]")).to_be_checked()
    expect(page.locator("input[name=opened_pt_br_subject]")).to_have_value(
        "Chamado {{ ticket.protocol }} aberto, {{ contact.name }}")
