"""Contacts in a real browser (CORE-3): an administrator, in Portuguese, finds a contact by
phone, opens it, edits it, and merges a second contact into it after a preview; a
restricted agent, in English, sees the screens without the merge."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_search_open_edit_and_merge_contacts(browser: Browser, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    first = site.customer_writes("Troca de tamanho", "Quero trocar", name="Marina Costa")
    second = site.customer_writes("Nota fiscal", "Preciso da nota", name="Marina C.")

    ana = sign_in(browser, site, "ana@loja.test", "pt-BR")
    ana.locator(".mainnav").get_by_role("link", name="Contatos").click()
    expect(ana.locator("h1")).to_have_text("Contatos")
    ana.locator("#contact-search").fill("Marina Costa")
    results = ana.locator("#contact-results")
    expect(results.locator("tbody tr")).to_have_count(1)
    results.get_by_role("link", name="Marina Costa").click()
    expect(ana.locator(".contact-tickets")).to_contain_text("Troca de tamanho")

    ana.get_by_role("link", name="Editar").click()
    ana.get_by_label("Empresa").fill("Tecidos Costa")
    ana.get_by_label("Observações").fill("Prefere WhatsApp")
    ana.locator("select[name=new_kind]").select_option("whatsapp")
    ana.locator("input[name=new_value]").fill("(11) 98765-4321")
    ana.get_by_role("button", name="Salvar").click()
    expect(ana.locator(".flash")).to_contain_text("Contato salvo.")
    expect(ana.locator(".identities")).to_contain_text("+5511987654321")
    expect(ana.locator(".contact-company")).to_contain_text("Tecidos Costa")

    # The number as WhatsApp reports an older account (no ninth digit) finds her.
    ana.locator(".mainnav").get_by_role("link", name="Contatos").click()
    ana.locator("#contact-search").fill("5511 8765-4321")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("Marina Costa")
    ana.locator("#contact-search").fill("529.982.247-26")
    expect(results).to_contain_text("Este CPF não é válido.")

    ana.locator("#contact-search").fill("Marina Costa")
    results.get_by_role("link", name="Marina Costa").click()
    ana.get_by_role("link", name="Juntar com outro contato").click()
    ana.locator("#merge-search").fill("Marina C.")
    ana.get_by_role("button", name="Buscar").click()
    ana.locator(".merge-candidates").get_by_role("link", name="Marina C.").click()
    preview = ana.locator(".merge-preview")
    expect(preview).to_contain_text("1 chamado")
    expect(preview).to_contain_text("será juntado a Marina Costa")
    ana.screenshot(path=str(SCREENSHOTS / "contact-merge-preview.png"))
    ana.get_by_role("button", name="Juntar").click()
    expect(ana.locator(".flash")).to_contain_text("Contatos juntados.")
    tickets = ana.locator(".contact-tickets")
    expect(tickets).to_contain_text("Troca de tamanho")
    expect(tickets).to_contain_text("Nota fiscal")
    expect(ana.locator(".contact-history")).to_contain_text(re.compile(r"juntou o contato nº"))
    tickets.get_by_role("link").nth(1).click()
    expect(ana).to_have_url(re.compile(rf"/tickets/({first['ticket_id']}|{second['ticket_id']})/"))

    bruno = sign_in(browser, site, "bruno@loja.test", "en-US")
    bruno.locator(".mainnav").get_by_role("link", name="Contacts").click()
    expect(bruno.locator("h1")).to_have_text("Contacts")
    bruno.locator("#contact-search").fill("Marina C.")
    expect(bruno.locator("#contact-results")).to_contain_text("Nothing matches your search")
    bruno.locator("#contact-search").fill("+55 11 98765-4321")
    bruno.locator("#contact-results").get_by_role("link", name="Marina Costa").click()
    expect(bruno.locator(".contact-tickets")).to_contain_text("Nota fiscal")
    expect(bruno.get_by_role("link", name="Edit")).to_be_visible()
    expect(bruno.get_by_role("link", name="Merge with another contact")).to_have_count(0)
