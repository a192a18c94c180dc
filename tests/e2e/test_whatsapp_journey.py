"""WhatsApp in a real browser (issue 5): a customer's message, delivered by the fake
360dialog server to the real `atende web` process, appears live in the queue; the agent
answers, the provider's sent → delivered → read statuses move the ticks live; once the
customer's last message is older than 24 hours the composer's panel says the window is
closed and sends an approved template instead."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import LIVE, SCREENSHOTS, sign_in, wait_for
from tests.fakes import processes
from tests.fakes.dialog360 import FakeDialog360

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
CUSTOMER = "5511987654321"

# Run in a separate interpreter on the web process's data; the webhook is registered with
# the fake through the production service, so the fake holds the real URL and secret header.
SEED_WHATSAPP = """
import json
from atende.channels.models import Channel, ChannelKind
from atende.connectors.whatsapp.channels import register_webhook
from atende.tenancy.models import Organization, Service
org = Organization.objects.get(slug="loja")
channel = Channel(organization=org, kind=ChannelKind.WHATSAPP, name="WhatsApp Loja",
                  service=Service.objects.get(organization=org, name="Suporte"),
                  settings={"provider": "360dialog", "number": "+551130000000",
                            "base_url": "FAKE_URL", "hsm_enabled": True,
                            "idle_expiry_minutes": 0, "templates": {}})
channel.secrets = {"api_key": "API_KEY", "webhook_secret": "a-webhook-secret-for-tests"}
channel.save()
connection = register_webhook(channel)
print(json.dumps({"channel": channel.pk, "registered": connection.registered,
                  "message": str(connection.message)}))
"""

# The window is computed from the customer's last message as stored: moving it back 25 h
# is what a day of silence would leave.
AGE_LAST_MESSAGE = """
from datetime import timedelta
from django.db.models import F
from atende.tickets.models import Direction, Message
moved = Message.objects.filter(ticket_id=TICKET, direction=Direction.INBOUND).update(
    created_at=F("created_at") - timedelta(hours=25))
assert moved == 1, moved
"""


@pytest.fixture
def wa(site: Site) -> Iterator[FakeDialog360]:
    with FakeDialog360() as fake:
        fake.add_template("pedido_atualizado", "Seu pedido foi atualizado. Responda para "
                          "continuar o atendimento.")
        env = {**site.env, "ATENDE_PUBLIC_URL": site.url}
        seeded = json.loads(processes.run_django(
            SEED_WHATSAPP.replace("FAKE_URL", fake.url).replace("API_KEY", fake.api_key), env))
        assert seeded["registered"], seeded["message"]
        assert fake.webhook["url"].startswith(site.url)
        yield fake


def test_whatsapp_message_answer_live_ticks_and_template_after_window(
    browser: Browser, site: Site, wa: FakeDialog360
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ana = sign_in(browser, site, "ana@loja.test", "pt-BR")
    ana.evaluate("window.__noReload = true")

    wa.customer_sends(CUSTOMER, "Oi, meu pedido 7781 veio errado", name="Marta Gomes")
    assert wa.flush() == [200]
    row = ana.locator("#queue-live tr", has_text="Marta Gomes")
    expect(row).to_contain_text("Oi, meu pedido 7781 veio errado", timeout=LIVE)
    expect(row).to_contain_text("WhatsApp")
    assert ana.evaluate("window.__noReload") is True

    row.locator("a.protocol").click()
    expect(ana.locator("#whatsapp-panel")).to_have_attribute("data-window", "open")
    ticket_id = int(ana.url.rstrip("/").rsplit("/", 1)[1])
    ana.evaluate("window.__noReload = true")
    ana.locator("#composer-text").fill("Olá Marta! Vamos trocar o produto.")
    ana.locator("#composer-send").click()
    expect(ana.locator("#composer")).to_contain_text("Resposta enviada.")

    wait_for(lambda: any(b.get("type") == "text" and b.get("to") == CUSTOMER
                         for b in wa.sent))
    answer = next(b for b in wa.sent if b.get("type") == "text")
    assert answer["text"]["body"] == "Olá Marta! Vamos trocar o produto."
    ticks = ana.locator("#tab-timeline .entry-outbound .delivery")
    # The fake queued sent + delivered for the answer; "read" follows when Marta opens it.
    wait_for(lambda: len(wa.outbox) == 2)
    wamid = wa.outbox[0]["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    first, second = wa.outbox
    wa.outbox = [first]
    assert wa.flush() == [200]
    expect(ticks).to_have_text("Enviada", timeout=LIVE)
    wa.outbox = [second]
    assert wa.flush() == [200]
    expect(ticks).to_have_text("Entregue", timeout=LIVE)
    wa.status(wamid, "read", to=CUSTOMER)
    assert wa.flush() == [200]
    expect(ticks).to_have_text("Lida", timeout=LIVE)
    assert ana.evaluate("window.__noReload") is True

    # A day later: the panel says why free text is over and offers the approved templates.
    processes.run_django(AGE_LAST_MESSAGE.replace("TICKET", str(ticket_id)), site.env)
    wa.advance(25 * 3600)
    ana.reload()
    panel = ana.locator("#whatsapp-panel")
    expect(panel).to_have_attribute("data-window", "closed")
    expect(panel).to_contain_text("janela de 24 horas")
    expect(panel.locator("select[name=template]")).to_have_value("pedido_atualizado|pt_BR")
    ana.screenshot(path=str(SCREENSHOTS / "whatsapp-window-closed.png"), full_page=True)
    panel.get_by_role("button", name="Enviar modelo").click()
    expect(ana.locator("#whatsapp-panel")).to_contain_text("Modelo")
    wait_for(lambda: any(b.get("type") == "template" for b in wa.sent))
    template = next(b for b in wa.sent if b.get("type") == "template")
    assert template["to"] == CUSTOMER
    assert template["template"]["name"] == "pedido_atualizado"
