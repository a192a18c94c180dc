"""The public help centre at /p/<organisation>/kb/: reading, search, suggestions with their
counts, votes; only published public articles, never another organisation's."""

from __future__ import annotations

import secrets

import pytest
from django.test import Client

from atende.kb import limits
from atende.kb.demo_articles import add_demo_articles
from atende.kb.models import Article, ArticleStatus, ArticleVote, Audience, Language
from atende.kb.services import Version, record_ticket, save_article
from atende.kb.stats import deflection
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="pt-br")


def kb(tenant: Tenant, rest: str = "") -> str:
    return f"/p/{tenant.org.slug}/kb/{rest}"


def test_home_lists_published_public_articles_by_category(tenant: Tenant,
                                                          client: Client) -> None:
    add_demo_articles(tenant.org.pk)
    save_article(tenant.org.pk, versions=[Version(Language.PT_BR, "Rascunho secreto", "")],
                 status=ArticleStatus.DRAFT, audience=Audience.PUBLIC, category=None)
    page = client.get(kb(tenant)).content.decode()
    assert "Pagamentos e boletos" in page and "Como emitir a segunda via do boleto" in page
    assert "Rascunho secreto" not in page and "Procedimento interno" not in page


def test_search_page_highlights_and_reads_plurals_without_accents(tenant: Tenant,
                                                                   client: Client) -> None:
    add_demo_articles(tenant.org.pk)
    page = client.get(kb(tenant), {"q": "devolucoes"}).content.decode()
    assert "Trocas e devoluções em até 7 dias" in page and "<mark>" in page


def test_article_page_and_english_version(tenant: Tenant, client: Client) -> None:
    article = save_article(
        tenant.org.pk, status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC, category=None,
        versions=[Version(Language.PT_BR, "Segunda via", "<p>Texto</p>"),
                  Version(Language.EN, "Duplicate invoice", "<p>Text</p>")])
    assert "Segunda via" in client.get(kb(tenant, f"{article.slug}/")).content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(kb(tenant, f"{article.slug}/"))
    assert "Duplicate invoice" in english.content.decode()


def test_rich_text_is_sanitised_when_saved(tenant: Tenant, client: Client) -> None:
    article = save_article(
        tenant.org.pk, status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC, category=None,
        versions=[Version(Language.PT_BR, "Oi", '<p onclick="x()">Olá <script>alert(1)'
                          '</script><a href="javascript:alert(1)">link</a> <b>forte</b></p>')])
    version = article.translations.get()
    assert "script" not in version.body and "onclick" not in version.body
    assert "javascript" not in version.body and "<b>forte</b>" in version.body
    assert version.body_text == "Olá link forte"
    page = client.get(kb(tenant, f"{article.slug}/")).content.decode()
    assert "alert(1)" not in page


def test_drafts_agents_only_and_other_organisations_are_404(
        tenant: Tenant, other_tenant: Tenant, client: Client) -> None:
    add_demo_articles(tenant.org.pk)
    assert client.get(kb(tenant, "estorno-procedimento-interno/")).status_code == 404
    assert client.get(kb(other_tenant, "segunda-via-do-boleto/")).status_code == 404
    assert client.post(kb(other_tenant, "segunda-via-do-boleto/vote/"),
                       {"helpful": "yes"}).status_code == 404
    assert client.get("/p/no-such-organisation/kb/").status_code == 404
    other = client.get(kb(other_tenant), {"q": "boleto"}).content.decode()
    assert "segunda via" not in other.lower()
    assert client.get(kb(other_tenant, "suggest"), {"q": "boleto"}).json()["articles"] == []


def test_suggestions_count_shown_opened_and_deflected(tenant: Tenant, client: Client) -> None:
    add_demo_articles(tenant.org.pk)
    first = client.get(kb(tenant, "suggest"), {"q": "nao consigo pagar o boleto"}).json()
    assert first["articles"][0]["url"].startswith(kb(tenant, "segunda-via-do-boleto/"))
    visit = first["visit"]
    again = client.get(kb(tenant, "suggest"), {"q": "boleto vencido", "visit": visit}).json()
    assert again["visit"] == visit  # one visit per customer writing one ticket
    client.get(again["articles"][0]["url"])
    article = Article.objects.get(organization=tenant.org, slug="segunda-via-do-boleto")
    assert article.shown_count == 2 and article.opened_count == 1
    figures = deflection(tenant.org.pk)
    assert (figures.visits, figures.opened) == (1, 1)
    # A second customer opens the article and sends the ticket anyway: not deflected.
    other = client.get(kb(tenant, "suggest"), {"q": "boleto"}).json()
    client.get(other["articles"][0]["url"])
    record_ticket(tenant.org.pk, other["visit"])
    assert deflection(tenant.org.pk).opened == 2
    assert client.get(kb(tenant, "suggest"), {"q": "ab"}).json()["articles"] == []


def test_votes_one_per_visitor_and_bad_input(tenant: Tenant, client: Client) -> None:
    add_demo_articles(tenant.org.pk)
    url = kb(tenant, "rastrear-pedido/vote/")
    assert client.post(url, {"helpful": "yes"}).status_code == 302
    assert client.post(url, {"helpful": "no"}).status_code == 302  # changes their vote
    assert client.post(url, {"helpful": "maybe"}).status_code == 400
    Client().post(url, {"helpful": "yes"})
    votes = ArticleVote.objects.filter(article__slug="rastrear-pedido")
    assert sorted(votes.values_list("helpful", flat=True)) == [False, True]


def test_suggestions_are_rate_limited(tenant: Tenant, client: Client) -> None:
    # An address of its own: the budget is shared by every request from one address (and,
    # on the scaled profile, by every test run using the same Redis within the minute).
    address = f"198.51.100.{secrets.randbelow(250) + 1}"
    limits.PER_MINUTE["suggest"], saved = 3, limits.PER_MINUTE["suggest"]
    try:
        codes = [client.get(kb(tenant, "suggest"), {"q": "boleto"},
                            REMOTE_ADDR=address).status_code for _ in range(5)]
    finally:
        limits.PER_MINUTE["suggest"] = saved
    assert codes == [200, 200, 200, 429, 429]
