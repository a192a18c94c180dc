"""The website chat in real browsers: a visitor on a shop's page (another origin on
127.0.0.1, with a strict Content-Security-Policy that allows only Atende's origin) opens
the widget and writes; the agent, signed in to the workspace, sees the chat arrive live
with its badge and answers; the visitor sees the answer live, reloads the page and keeps
the conversation. A message that looks like HTML stays text on both sides."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import PASSWORD, SEED, Site
from tests.e2e.test_workspace_journeys import LIVE, SCREENSHOTS, sign_in
from tests.fakes import processes
from tests.fakes.http_receiver import HttpReceiver

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
XSS = "<img src=x onerror=alert(1)>"

WIDGET = """
from atende.channels.models import Channel
from atende.connectors.webchat.channels import save_channel
from atende.tenancy.models import Organization, Service
org = Organization.objects.get(slug="loja")
channel = save_channel(org, {"name": "Site da loja", "service": Service.objects.get(
    organization=org, name="Suporte"), "title": "Loja Exemplo",
    "greeting": "Olá! Em que podemos ajudar?",
    "colour": "#0a7d4f", "corner": "bottom-right", "icon": "chat", "prechat": "optional",
    "origins": ["SHOP_ORIGIN"]})
print(channel.settings["public_id"])
"""


class ShopPage:
    """The customer's own site: one page embedding the snippet, under a strict CSP."""

    def __init__(self, atende_url: str) -> None:
        self.public_id = ""  # known once the widget is made with this page's origin
        shop = self

        def page() -> bytes:
            return (f'<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">'
                    '<meta name="viewport" content="width=device-width,initial-scale=1">'
                    f'<title>Loja</title></head><body><h1>Loja Exemplo</h1>'
                    f'<script src="{atende_url}/widget/v1.js" '
                    f'data-atende-widget="{shop.public_id}" async></script></body></html>'
                    ).encode()

        csp = (f"default-src 'self'; script-src {atende_url}; connect-src {atende_url}; "
               "style-src 'self'; img-src 'self'")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", csp)
                self.end_headers()
                self.wfile.write(page())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def shop_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, ShopPage]]:
    base: Path = tmp_path_factory.mktemp("e2e-widget")
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    env = processes.profile_env(base / "data", ATENDE_TASKS_IMMEDIATE="1",
                                ATENDE_PUBLIC_URL=url)
    with HttpReceiver() as receiver:
        # Generous timeouts: a loaded machine starts Django slowly.
        processes.manage(env, "migrate", "--noinput", timeout=600)
        # The shop's origin must be on the widget's allow-list.
        shop = ShopPage(url)
        lines = processes.run_django(
            SEED.replace("PASSWORD", PASSWORD).replace("WEBHOOK_URL", receiver.url)
            + WIDGET.replace("SHOP_ORIGIN", shop.url), env, timeout=300).splitlines()
        seeded, shop.public_id = json.loads(lines[0]), lines[1]
        web = processes.start_web(env, base, port)
        try:
            yield Site(web.url, seeded["channel"], seeded["key"], receiver, env=env), shop
        finally:
            web.stop()
            shop.close()


def test_visitor_and_agent_chat_live_and_the_visitor_keeps_it_after_a_reload(
        browser: Browser, shop_site: tuple[Site, ShopPage]) -> None:
    site, shop = shop_site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ana = sign_in(browser, site, "ana@loja.test", "pt-BR")
    ana.evaluate("window.__noReload = true")

    visitor_context = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 800})
    visitor = visitor_context.new_page()
    dialogs: list[str] = []
    visitor.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ana.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    blocked: list[str] = []
    visitor.on("console", lambda m: blocked.append(m.text)
               if "Content Security Policy" in m.text else None)
    visitor.goto(shop.url)
    launcher = visitor.get_by_role("button", name="Abrir chat")
    expect(launcher).to_be_visible()
    visitor.screenshot(path=str(SCREENSHOTS / "widget-closed.png"))
    launcher.click()
    expect(visitor.get_by_role("dialog")).to_contain_text("Olá! Em que podemos ajudar?")
    visitor.get_by_placeholder("Nome").fill("Rita Prado")
    visitor.get_by_role("button", name="Iniciar conversa").click()
    box = visitor.get_by_role("textbox", name="Escreva sua mensagem…")
    box.fill("Meu pedido 4410 não chegou")
    box.press("Enter")
    box.fill(XSS)
    box.press("Enter")
    log = visitor.get_by_role("log")
    expect(log).to_contain_text(XSS)

    row = ana.locator("#queue-live tr", has_text="Rita Prado")
    expect(row).to_be_visible(timeout=LIVE)
    expect(row.locator(".badge.channel-webchat")).to_have_text("Chat")
    assert ana.evaluate("window.__noReload") is True
    row.locator("a.protocol").click()
    expect(ana.locator("main")).to_contain_text(XSS)
    ana.locator("#composer-text").fill("Olá Rita! Já verifico o pedido 4410.")
    expect(visitor.get_by_role("status")).to_have_text("Digitando…", timeout=LIVE)
    box.fill("Obrigada")  # typing both ways
    expect(ana.locator(".chat-typing")).to_have_text("O visitante está digitando…",
                                                     timeout=LIVE)
    box.fill("")
    ana.locator("#composer-send").click()

    expect(log).to_contain_text("Olá Rita! Já verifico o pedido 4410.", timeout=LIVE)
    expect(log).to_contain_text("Ana")  # the agent's first name
    visitor.screenshot(path=str(SCREENSHOTS / "widget-open.png"))

    visitor.reload()
    visitor.get_by_role("button", name="Abrir chat").click()
    log = visitor.get_by_role("log")
    expect(log).to_contain_text("Meu pedido 4410 não chegou")
    expect(log).to_contain_text("Olá Rita! Já verifico o pedido 4410.")
    # Still live after the reload: the stream resumes from the stored Last-Event-ID.
    ana.locator("#composer-text").fill("Encontrei: sai amanhã.")
    ana.locator("#composer-send").click()
    expect(log).to_contain_text("Encontrei: sai amanhã.", timeout=LIVE)
    assert log.locator("li", has_text="Encontrei: sai amanhã.").count() == 1
    assert not dialogs and not blocked

    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 800},
                                is_mobile=True).new_page()
    phone.goto(shop.url)
    phone.get_by_role("button", name="Open chat").click()
    panel = phone.get_by_role("dialog")
    expect(panel).to_be_visible()
    size = panel.bounding_box()
    assert size is not None and size["width"] >= 389 and size["height"] >= 799
    phone.screenshot(path=str(SCREENSHOTS / "widget-phone.png"))
    phone.keyboard.press("Escape")
    expect(panel).to_be_hidden()
