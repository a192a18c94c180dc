"""Search and the help centre in a real browser (CORE-16, PO-3): an agent finds a ticket
from the queue's box by a word in another form, opens the full results page, reads the
matching help article from there; the article's public page takes a vote."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Site
from tests.e2e.test_workspace_journeys import sign_in
from tests.fakes import processes

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SEED = """
from atende.kb.demo_articles import add_demo_articles
from atende.tenancy.models import Organization
add_demo_articles(Organization.objects.get(slug="loja").pk)
print("{}")
"""


def test_search_from_the_queue_results_page_and_article(browser: Browser, site: Site) -> None:
    processes.run_django(SEED, site.env)
    site.customer_writes("Boleto não chegou", "Ainda não recebi o boleto de março")
    site.customer_writes("Troca de tamanho", "Quero trocar a camiseta")

    ana = sign_in(browser, site, "ana@loja.test", "pt-BR")
    ana.locator("#queue-search").fill("boletos")
    queue = ana.locator("#queue-live")
    expect(queue).to_contain_text("Boleto não chegou")
    expect(queue).not_to_contain_text("Troca de tamanho")

    ana.locator("#search-everything").click()
    expect(ana.locator("#ticket-hits")).to_contain_text("Boleto não chegou")
    expect(ana.locator("#ticket-hits mark").first).to_have_text(re.compile("^boleto$", re.I))
    ana.get_by_role("link", name="Como emitir a segunda via do boleto").click()
    expect(ana.locator("h1")).to_have_text("Como emitir a segunda via do boleto")

    public = browser.new_page(base_url=site.url, locale="pt-BR")
    public.goto("/p/loja/kb/?q=cartoes")
    public.get_by_role("link", name="Cartão de crédito recusado no pagamento").click()
    expect(public.locator("h1")).to_have_text("Cartão de crédito recusado no pagamento")
    public.get_by_role("button", name="Sim").click()
    expect(public.get_by_role("status")).to_have_text("Obrigado pela sua avaliação.")
