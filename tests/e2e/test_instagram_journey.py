"""Instagram in a real browser: an admin creates the channel and connects it with Facebook
Login (the browser walks the fake Graph's consent dialog, the real `atende web` process
exchanges the code and subscribes the page); a customer's DM, delivered signed by the fake
to the channel's webhook, appears live in the queue with the Instagram badge; the agent
answers and the fake's Send API receives it; once the customer's message is over 24 hours
old, the ticket screen says the window is closed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import PASSWORD, SEED, Site
from tests.e2e.test_workspace_journeys import LIVE, SCREENSHOTS, sign_in, wait_for
from tests.fakes import processes
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.meta_graph import CUSTOMER, FakeMetaGraph

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

AGE_MESSAGES = """
from datetime import timedelta
from django.utils import timezone
from atende.tickets.models import Direction, Message
Message.objects.filter(channel__kind="instagram", direction=Direction.INBOUND).update(
    created_at=timezone.now() - timedelta(hours=30))
print("{}")
"""


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeMetaGraph]:
    with FakeMetaGraph() as fake:
        fake.profiles[CUSTOMER] = {"name": "Rita Prado", "username": "rita.prado"}
        yield fake


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, graph: FakeMetaGraph) -> Iterator[Site]:
    base: Path = tmp_path_factory.mktemp("e2e-instagram")
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    env = processes.profile_env(base / "data", ATENDE_TASKS_IMMEDIATE="1",
                                ATENDE_PUBLIC_URL=url, ATENDE_META_GRAPH_URL=graph.graph_url,
                                ATENDE_META_DIALOG_URL=graph.dialog_url)
    with HttpReceiver() as receiver:
        processes.manage(env, "migrate", "--noinput")
        seeded = json.loads(processes.run_django(
            SEED.replace("PASSWORD", PASSWORD).replace("WEBHOOK_URL", receiver.url), env))
        web = processes.start_web(env, base, port)
        try:
            yield Site(web.url, seeded["channel"], seeded["key"], receiver, env=env)
        finally:
            web.stop()


def test_connect_see_a_dm_arrive_live_answer_it_and_see_the_window_close(
        browser: Browser, site: Site, graph: FakeMetaGraph) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ana = sign_in(browser, site, "ana@loja.test", "pt-BR")

    ana.goto("/settings/channels/new/instagram/")
    ana.locator("input[name=name]").fill("Instagram Loja")
    ana.locator("input[name=app_id]").fill(graph.app_id)
    ana.locator("input[name=app_secret]").fill(graph.app_secret)
    ana.locator("select[name=service]").select_option(label="Suporte")
    ana.locator("form.settings-form button[type=submit]").click()
    expect(ana.locator("main")).to_contain_text("/instagram/")
    created = ana.url.rstrip("/").removesuffix("/created")  # …/settings/channels/<id>
    ana.goto(f"{created}/")
    ana.locator("[data-meta-connect]").click()  # through the fake's consent dialog
    expect(ana.locator("[data-meta-status=connected]")).to_contain_text(graph.page_name)
    assert "messages" in graph.subscribed
    webhook = ana.locator("[data-webhook-url]").inner_text()

    ana.goto("/")
    ana.evaluate("window.__noReload = true")
    graph.customer_sends("Oi! Vocês entregam em Campinas?")
    assert graph.flush(webhook) == [200]
    row = ana.locator("#queue-live tr", has_text="Rita Prado")
    expect(row).to_contain_text("Vocês entregam em Campinas?", timeout=LIVE)
    expect(row.locator(".badge.channel-instagram")).to_have_text("Instagram")
    assert ana.evaluate("window.__noReload") is True
    ana.screenshot(path=str(SCREENSHOTS / "instagram-queue.png"), full_page=True)

    row.locator("a.protocol").click()
    expect(ana.locator("#meta-window-panel")).to_have_attribute("data-window", "open")
    ana.locator("#composer-text").fill("Olá Rita! Entregamos, sim.")
    ana.locator("#composer-send").click()
    expect(ana.locator("#composer")).to_contain_text("Resposta enviada.")
    wait_for(lambda: bool(graph.sent))
    [sent] = graph.sent
    assert sent["recipient"] == {"id": CUSTOMER}
    assert sent["message"] == {"text": "Olá Rita! Entregamos, sim."}

    processes.run_django(AGE_MESSAGES, site.env)
    ana.reload()
    panel = ana.locator("#meta-window-panel")
    expect(panel).to_have_attribute("data-window", "closed")
    expect(panel).to_contain_text("janela de 24 horas da conversa está fechada")
    ana.screenshot(path=str(SCREENSHOTS / "instagram-window-closed.png"), full_page=True)
