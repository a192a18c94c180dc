"""The unified queue page (CORE-6): views, counts, filters, sorts, search, tenancy, and a
constant number of queries whatever the number of rows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from atende.tenancy.models import Role
from atende.tickets.models import Priority, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.replies import post_message

pytestmark = pytest.mark.django_db


def protocols(response: Any) -> list[str]:
    return re.findall(r'class="protocol" href="/tickets/\d+/">(TKT-\d+)<',
                      response.content.decode())


def counts(response: Any) -> dict[str, int]:
    return {v: int(n) for v, n in re.findall(r'data-count="(\w+)">(\d+)<',
                                             response.content.decode())}


def test_rows_show_channel_protocol_contact_subject_and_last_message(
    tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(tenant.org, "Printer on fire", "It is smoking", name="Ana Souza",
                         origin="email")
    page = admin_client.get("/").content.decode()
    assert ticket.protocol in page and "Printer on fire" in page
    assert "Ana Souza" in page and "It is smoking" in page
    assert 'class="badge channel-email">E-mail<' in page


def test_views_and_counts(tenant: Any, admin_client: Client, make_ticket: Any,
                          make_agent: Any) -> None:
    other, _client = make_agent(tenant.org, "bia@example.com")
    mine = make_ticket(tenant.org, "mine")
    theirs = make_ticket(tenant.org, "theirs")
    make_ticket(tenant.org, "nobody")
    pending = make_ticket(tenant.org, "waiting")
    done = make_ticket(tenant.org, "done")
    actor = Actor(label="tests")
    update_ticket(mine, actor, assignee=tenant.admin)
    update_ticket(theirs, actor, assignee=other)
    update_ticket(pending, actor, status=Status.PENDING)
    update_ticket(done, actor, status=Status.RESOLVED)

    response = admin_client.get("/")
    assert counts(response) == {"mine": 1, "unassigned": 2, "open": 4, "pending": 1,
                                "resolved": 1}
    assert protocols(admin_client.get("/?view=mine")) == [mine.protocol]
    assert set(protocols(admin_client.get("/?view=unassigned"))) == {
        make.protocol for make in Ticket.objects.filter(subject__in=["nobody", "waiting"])}
    assert protocols(admin_client.get("/?view=resolved")) == [done.protocol]


def test_filters_combine_and_survive_bad_values(tenant: Any, admin_client: Client,
                                                make_ticket: Any) -> None:
    urgent = make_ticket(tenant.org, "urgent one", origin="email", priority=Priority.URGENT,
                         tags=["vip"])
    make_ticket(tenant.org, "normal one", origin="email")
    make_ticket(tenant.org, "api one", origin="api", priority=Priority.URGENT)
    assert protocols(admin_client.get("/?channel=email&priority=urgent")) == [urgent.protocol]
    assert protocols(admin_client.get("/?tag=vip")) == [urgent.protocol]
    assert len(protocols(admin_client.get("/?priority=bogus&service=x&page=-3&sort=zz"))) == 3


def test_sorts(tenant: Any, admin_client: Client, make_ticket: Any) -> None:
    low = make_ticket(tenant.org, "low", priority=Priority.LOW)
    urgent = make_ticket(tenant.org, "urgent", priority=Priority.URGENT)
    high = make_ticket(tenant.org, "high", priority=Priority.HIGH)
    assert protocols(admin_client.get("/?sort=priority")) == [
        urgent.protocol, high.protocol, low.protocol]
    assert protocols(admin_client.get("/?sort=waiting"))[0] == low.protocol
    assert protocols(admin_client.get("/?sort=updated"))[0] == high.protocol


def test_search_by_protocol_subject_contact_identity_and_message_text(
    tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    a = make_ticket(tenant.org, "Boleto vencido", "segunda via", name="Carlos",
                    email="carlos@firma.com.br")
    b = make_ticket(tenant.org, "Entrega", "chegou quebrado", name="Joana")
    post_message(b, Actor(user=tenant.admin), text="Vamos trocar o produto")
    assert protocols(admin_client.get("/", {"q": a.protocol})) == [a.protocol]
    assert protocols(admin_client.get("/", {"q": str(a.number)})) == [a.protocol]
    assert protocols(admin_client.get("/", {"q": "boleto"})) == [a.protocol]
    assert protocols(admin_client.get("/", {"q": "joana"})) == [b.protocol]
    assert protocols(admin_client.get("/", {"q": "firma.com"})) == [a.protocol]
    assert protocols(admin_client.get("/", {"q": "trocar o produto"})) == [b.protocol]
    empty = admin_client.get("/", {"q": "nothing like this"}).content.decode()
    assert "Nothing matches your search" in empty


def test_htmx_request_gets_only_the_live_partial(tenant: Any, admin_client: Client,
                                                 make_ticket: Any) -> None:
    make_ticket(tenant.org, "partial please")
    body = admin_client.get("/?view=open", HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="queue-live"')
    assert "partial please" in body and "<html" not in body


def test_no_other_organisation_ticket_ever_shows(tenant: Any, other_tenant: Any,
                                                 admin_client: Client, make_ticket: Any) -> None:
    make_ticket(other_tenant.org, "Globex secret", "secret text")
    for query in ("", "?view=unassigned", "?q=secret", "?q=Globex"):
        assert "Globex secret" not in admin_client.get("/" + query).content.decode()
    assert counts(admin_client.get("/"))["open"] == 0


def test_empty_queue_explains_itself(admin_client: Client) -> None:
    assert "No tickets here" in admin_client.get("/").content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_query_count_does_not_grow_with_rows(
    rows: int, tenant: Any, admin_client: Client, make_ticket: Any, make_agent: Any,
    django_assert_max_num_queries: Any,
) -> None:
    agent, _client = make_agent(tenant.org, "carla@example.com", role=Role.AGENT)
    for n in range(rows):
        ticket = make_ticket(tenant.org, f"row {n}", tags=["a", "b"], service=tenant.service)
        update_ticket(ticket, Actor(label="t"), assignee=agent if n % 2 else tenant.admin)
    # session, user, memberships (also the org switch), rows, tag names, the counts (one
    # statement), filter lists (cached with Redis: tests/workspace/test_org_lists.py)
    with django_assert_max_num_queries(10):
        response = admin_client.get("/?sort=priority")
    assert len(protocols(response)) == rows
    with django_assert_max_num_queries(7):
        admin_client.get("/", HTTP_HX_REQUEST="true")


def test_counts_are_capped_so_the_page_does_not_slow_down_with_volume(
    tenant: Any, admin_client: Client, make_ticket: Any, monkeypatch: Any
) -> None:
    from atende.tickets import queue_query as queue

    monkeypatch.setattr(queue, "COUNT_CAP", 2)
    monkeypatch.setattr("atende.workspace.views.queue_page.COUNT_CAP", 2)
    for n in range(3):
        update_ticket(make_ticket(tenant.org, f"old {n}"), Actor(label="t"),
                      status=Status.CLOSED)
    make_ticket(tenant.org, "new one")
    page = admin_client.get("/").content.decode()
    assert 'data-count="resolved">2+<' in page and 'data-count="open">1<' in page


def test_the_channel_filter_offers_only_channels_atende_has(tenant: Any,
                                                            admin_client: Client) -> None:
    from atende.channels.models import ChannelKind
    from atende.channels.registry import CONNECTORS

    page = admin_client.get("/").content.decode()
    offered = set(re.findall(r'<option value="([a-z_]+)"[^>]*>', page)) & set(ChannelKind.values)
    assert offered == set(CONNECTORS)
