"""Consumidor.gov.br in a real browser: an admin connects the channel on the settings
screen (a CPF with wrong check digits refused, the seed's warning shown), a complaint is
synchronised from the fake platform, and its ticket shows the complaint's header and sends
the agent's answer to the platform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import PASSWORD, SEED, Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in, wait_for
from tests.fakes import processes
from tests.fakes.consumidor_gov import CLIENT_ID, CODE, FakeConsumidorGov
from tests.fakes.consumidor_gov import PASSWORD as CG_PASSWORD
from tests.fakes.http_receiver import HttpReceiver

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# Run in a separate interpreter: the channel takes the fake at any hour (the browser's
# answer must not depend on the real clock), then one sync with the fake's clock.
SYNC = """
from datetime import datetime
from zoneinfo import ZoneInfo
from atende.channels.models import Channel
from atende.connectors.consumidor_gov import hours
from atende.connectors.consumidor_gov.receive import sync_channel
channel = Channel.objects.get(kind="consumidor_gov")
channel.settings = {**channel.settings, "api": {**channel.settings["api"], "hours": "always"}}
channel.save()
hours.current_time = lambda: datetime(2026, 12, 8, 12, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
print(sync_channel(channel).protocols)
"""


@pytest.fixture(scope="module")
def cg() -> Iterator[FakeConsumidorGov]:
    with FakeConsumidorGov() as fake:
        yield fake


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base: Path = tmp_path_factory.mktemp("e2e-consumidor")
    env = processes.profile_env(base / "data", ATENDE_TASKS_IMMEDIATE="1")
    with HttpReceiver() as receiver:
        processes.manage(env, "migrate", "--noinput")
        seeded = json.loads(processes.run_django(
            SEED.replace("PASSWORD", PASSWORD).replace("WEBHOOK_URL", receiver.url), env))
        web = processes.start_web(env, base)
        try:
            yield Site(web.url, seeded["channel"], seeded["key"], receiver, env=env)
        finally:
            web.stop()


def test_connect_the_channel_and_answer_a_complaint(browser: Browser, site: Site,
                                                     cg: FakeConsumidorGov) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ana = sign_in(browser, site, "ana@loja.test", "pt-BR")

    ana.goto("/settings/channels/new/consumidor_gov/")
    expect(ana.locator("main")).to_contain_text("CPF exclusivo para fins institucionais")
    ana.locator("input[name=name]").fill("Consumidor.gov.br Loja")
    ana.locator("input[name=client_id]").fill(CLIENT_ID)
    ana.locator("input[name=code]").fill(CODE)
    ana.locator("input[name=password]").fill(CG_PASSWORD)
    ana.locator("input[name=cpf]").fill("529.982.247-24")  # a wrong check digit
    ana.locator("select[name=service]").select_option(label="Suporte")
    ana.locator("input[name=base_url]").fill(f"{cg.url}/api/servico")
    ana.locator("form.settings-form button[type=submit]").click()
    expect(ana.locator("main")).to_contain_text("Este CPF não é válido.")
    ana.locator("input[name=code]").fill(CODE)  # secrets are not rendered back
    ana.locator("input[name=password]").fill(CG_PASSWORD)
    ana.locator("input[name=cpf]").fill("529.982.247-25")
    ana.screenshot(path=str(SCREENSHOTS / "consumidor-settings.png"), full_page=True)
    ana.locator("form.settings-form button[type=submit]").click()
    expect(ana.locator("main")).to_contain_text("Testar conexão")

    protocol = cg.new_complaint(text="Fui cobrada duas vezes.", cpf="98765432100")
    assert protocol in processes.run_django(SYNC, site.env)

    ana.goto("/")
    row = ana.locator("#queue-live tr", has_text=protocol)
    expect(row.locator(".badge.channel-consumidor_gov")).to_be_visible()
    row.locator("a.protocol").click()
    panel = ana.locator("#consumidor-panel")
    expect(panel).to_contain_text(protocol)
    expect(panel).to_contain_text("Maria Souza")
    expect(panel.locator(".cg-cpf")).to_have_text("987.654.321-00")  # an admin sees it
    expect(panel.locator(".cg-status")).to_contain_text("Aberta")
    expect(ana.locator(".entry-note")).to_contain_text("Fui cobrada duas vezes.")

    ana.locator("#composer-text").fill("Olá Maria, o estorno foi feito.")
    ana.locator("#composer-send").click()
    expect(ana.locator("#composer")).to_contain_text("Resposta enviada.")
    wait_for(lambda: [a["texto"] for a in cg.answers] == ["Olá Maria, o estorno foi feito."])
    assert cg.status_of(protocol) == "Respondida"
    ana.reload()
    expect(ana.locator("#consumidor-panel .cg-status")).to_contain_text("Respondida")
    ana.screenshot(path=str(SCREENSHOTS / "consumidor-ticket.png"), full_page=True)
