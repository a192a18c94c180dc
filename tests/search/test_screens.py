"""Search where agents use it: the queue's box, the results page, the ticket screen's
article panel, the knowledge-base settings and GET /api/v1/search."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from atende.kb.demo_articles import add_demo_articles
from atende.kb.models import Article, ArticleStatus
from atende.tenancy.api_keys import generate_api_key
from atende.tenancy.models import Membership, Role, User
from atende.tickets.models import Ticket
from tests.conftest import ApiClient, Tenant

pytestmark = pytest.mark.django_db
MakeTicket = Callable[..., Ticket]


def test_queue_box_finds_words_in_any_form(tenant: Tenant, admin_client: Client,
                                           make_ticket: MakeTicket) -> None:
    make_ticket(tenant.org, "Segunda via do boleto", "Preciso do boleto")
    make_ticket(tenant.org, "Troca de senha")
    page = admin_client.get("/", {"q": "boletos"}).content.decode()
    assert "Segunda via do boleto" in page and "Troca de senha" not in page
    assert "/search/?q=boletos" in page


def test_results_page_lists_each_kind(tenant: Tenant, admin_client: Client,
                                      make_ticket: MakeTicket) -> None:
    add_demo_articles(tenant.org.pk)
    make_ticket(tenant.org, "Boleto vencido", name="Bruna Boleto")
    page = admin_client.get("/search/", {"q": "boleto"}).content.decode()
    assert "Boleto vencido" in page and "Como emitir a segunda via do boleto" in page
    assert "<mark>" in page and "Bruna" in page


def test_ticket_panel_ranks_articles_and_offers_public_links(
        tenant: Tenant, admin_client: Client, make_ticket: MakeTicket) -> None:
    add_demo_articles(tenant.org.pk)
    ticket = make_ticket(tenant.org, "Não consigo rastrear meu pedido",
                         "O código de rastreamento não funciona na transportadora")
    panel = admin_client.get(f"/tickets/{ticket.pk}/articles/").content.decode()
    assert "Como rastrear meu pedido" in panel
    assert f'data-insert-link="http://testserver/p/{tenant.org.slug}/kb/rastrear-pedido/"' \
        in panel


def test_ticket_panel_of_a_ticket_the_agent_may_not_see_is_404(
        tenant: Tenant, make_ticket: MakeTicket,
        make_agent: Callable[..., tuple[User, Client]]) -> None:
    ticket = make_ticket(tenant.org, "Boleto")
    _user, client = make_agent(tenant.org, "restrita@example.com", Role.AGENT)
    assert client.get(f"/tickets/{ticket.pk}/articles/").status_code == 404


def test_settings_create_an_article_and_sanitise_it(tenant: Tenant,
                                                    admin_client: Client) -> None:
    response = admin_client.post("/settings/kb/new/", {
        "status": ArticleStatus.PUBLISHED, "audience": "public", "title_pt": "Frete grátis",
        "body_pt": "<p>Acima de R$ 200<script>x()</script></p>", "title_en": "",
        "body_en": ""})
    assert response.status_code == 302
    article = Article.objects.get(organization=tenant.org)
    assert article.slug == "frete-gratis"
    assert article.translations.get().body == "<p>Acima de R$ 200</p>"
    listing = admin_client.get("/settings/kb/").content.decode()
    assert "Frete grátis" in listing
    bad = admin_client.post("/settings/kb/new/", {"status": "published", "audience": "public",
                                                  "title_pt": "", "body_en": "x"})
    assert bad.status_code == 200 and Article.objects.count() == 1


def test_api_search_follows_the_issuers_visibility(tenant: Tenant, other_tenant: Tenant,
                                                   make_ticket: MakeTicket) -> None:
    visible = make_ticket(tenant.org, "Boleto A", service=tenant.service)
    make_ticket(tenant.org, "Boleto B")
    make_ticket(other_tenant.org, "Boleto C")
    agent = User.objects.create_user("agente@example.com", "a-long-password-1")
    Membership.objects.create(organization=tenant.org, user=agent,
                              role=Role.AGENT).services.add(tenant.service)
    _key, raw = generate_api_key(tenant.org, "agent key", created_by_id=agent.pk)
    body = ApiClient(raw).get("/api/v1/search", {"q": "boletos"}).json()
    assert [t["id"] for t in body["tickets"]] == [visible.pk]
    everything = tenant.client.get("/api/v1/search", {"q": "boleto", "kinds": "tickets"})
    assert {t["subject"] for t in everything.json()["tickets"]} == {"Boleto A", "Boleto B"}
    assert "<mark>" in everything.json()["tickets"][0]["snippet"]
    assert tenant.client.get("/api/v1/search", {"q": "x" * 201}).status_code == 400
