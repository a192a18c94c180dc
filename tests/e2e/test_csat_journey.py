"""CSAT in a real browser (CORE-14): an agent resolves an e-mail ticket, the customer opens
the link the real SMTP server received, rates 4 with a comment, and the agent sees it on
the ticket."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, expect

from tests.csat.conftest import link_path
from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in, wait_for
from tests.fakes import processes
from tests.fakes.smtp_sink import SmtpSink

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SEED = """
import json
from atende.channels.connector import ContactRef, InboundMessage
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Organization, Service
from atende.tickets.services.ingest import ingest
org = Organization.objects.get(slug="loja")
channel = Channel(organization=org, kind=ChannelKind.EMAIL, name="Suporte CSAT",
                  service=Service.objects.get(organization=org, name="Suporte"),
                  settings={"address": "suporte@loja.test", "in_protocol": "imap",
                            "smtp_host": "127.0.0.1", "smtp_port": SMTP_PORT,
                            "smtp_security": "none", "smtp_username": "smtp-user",
                            "csat": {"enabled": True, "delay_minutes": 0, "texts": {}}})
channel.secrets = {"smtp_password": "smtp-pass"}
channel.save()
result = ingest(InboundMessage(channel_id=channel.pk, external_id="<csat-e2e@cliente.test>",
                               contact=ContactRef("email", "rita@cliente.test", "Rita Alves"),
                               subject="Troca de produto", text="Quero trocar o tamanho."),
                channel)
print(json.dumps({"ticket": result.ticket.pk}))
"""


def test_customer_rates_the_resolved_ticket_from_the_mailed_link(
        browser: Browser, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with SmtpSink("smtp-user", "smtp-pass") as sink:
        ticket = json.loads(processes.run_django(
            SEED.replace("SMTP_PORT", str(sink.port)), site.env))["ticket"]
        ana = sign_in(browser, site, "ana@loja.test", "en-US")
        ana.goto(f"/tickets/{ticket}/")
        ana.locator("select[name=status]").select_option("resolved")
        ana.get_by_role("button", name="Save changes").click()
        wait_for(lambda: sink.deliveries, timeout=20)

    mail = sink.deliveries[0].message()
    assert sink.deliveries[0].rcpt_tos == ["rita@cliente.test"]
    path = link_path(mail.get_body(("plain",)).get_content())

    customer = browser.new_context(base_url=site.url, locale="pt-BR").new_page()
    customer.goto(path)
    expect(customer.get_by_role("heading")).to_have_text("Como foi o atendimento?")
    customer.get_by_label("4 - Bom").check()
    customer.get_by_label("Comentário (opcional)").fill("Troca feita em um dia, obrigada!")
    customer.screenshot(path=str(SCREENSHOTS / "csat-rating-page.png"))
    customer.get_by_role("button", name="Enviar avaliação").click()
    expect(customer.locator("main")).to_contain_text("Sua avaliação: 4 de 5.")

    ana.goto(f"/tickets/{ticket}/")
    block = ana.locator("#csat")
    expect(block).to_contain_text("4 of 5")
    expect(block).to_contain_text("Troca feita em um dia, obrigada!")
    block.screenshot(path=str(SCREENSHOTS / "csat-ticket-block.png"))
