"""Telegram in a real browser: an admin connects a bot on the channels screen (the real
`atende web` process calls the fake Bot API: getMe, setWebhook with a secret); a
customer's message, delivered by the fake to the registered webhook with that secret,
appears live in the queue with the Telegram badge; the agent answers and the fake
receives sendMessage."""

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
from tests.fakes.telegram import CUSTOMER_ID, FakeTelegram

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, tg: FakeTelegram) -> Iterator[Site]:
    """The e2e site, its web process pointed at the fake Bot API and knowing its own
    public URL (the webhook Telegram is given)."""
    base: Path = tmp_path_factory.mktemp("e2e-telegram")
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    env = processes.profile_env(base / "data", ATENDE_TASKS_IMMEDIATE="1",
                                ATENDE_PUBLIC_URL=url, ATENDE_TELEGRAM_BASE_URL=tg.url)
    with HttpReceiver() as receiver:
        processes.manage(env, "migrate", "--noinput")
        seeded = json.loads(processes.run_django(
            SEED.replace("PASSWORD", PASSWORD).replace("WEBHOOK_URL", receiver.url), env))
        web = processes.start_web(env, base, port)
        try:
            yield Site(web.url, seeded["channel"], seeded["key"], receiver, env=env)
        finally:
            web.stop()


def test_connect_a_bot_see_a_message_arrive_live_with_its_badge_and_answer_it(
        browser: Browser, site: Site, tg: FakeTelegram) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ana = sign_in(browser, site, "ana@loja.test", "pt-BR")

    ana.goto("/settings/channels/new/telegram/")
    ana.locator("input[name=name]").fill("Telegram Loja")
    ana.locator("input[name=bot_token]").fill(tg.token)
    ana.locator("select[name=service]").select_option(label="Suporte")
    ana.locator("form.settings-form button[type=submit]").click()
    expect(ana.locator("main")).to_contain_text("@atende_test_bot")
    assert tg.webhook["url"].startswith(f"{site.url}/telegram/")
    assert tg.webhook["secret_token"]

    ana.goto("/")
    ana.evaluate("window.__noReload = true")
    tg.customer_sends("Oi, meu pedido 4410 não chegou", first_name="Rita",
                      last_name="Prado", username="ritaprado")
    assert tg.flush() == [200]
    row = ana.locator("#queue-live tr", has_text="Rita Prado")
    expect(row).to_contain_text("Oi, meu pedido 4410 não chegou", timeout=LIVE)
    expect(row.locator(".badge.channel-telegram")).to_have_text("Telegram")
    assert ana.evaluate("window.__noReload") is True
    ana.screenshot(path=str(SCREENSHOTS / "telegram-queue.png"), full_page=True)

    row.locator("a.protocol").click()
    ana.locator("#composer-text").fill("Olá Rita! Já verifico o pedido 4410.")
    ana.locator("#composer-send").click()
    expect(ana.locator("#composer")).to_contain_text("Resposta enviada.")
    wait_for(lambda: any(s["method"] == "sendMessage" for s in tg.sent))
    [sent] = [s for s in tg.sent if s["method"] == "sendMessage"]
    assert sent["chat_id"] == str(CUSTOMER_ID)
    assert sent["text"] == "Olá Rita! Já verifico o pedido 4410."
