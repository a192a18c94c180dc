"""The queue's rows are worked out once per page in Python (labels, links, snippet, waiting
time): what they print must be what the template used to compute per row."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from atende.tickets.models import Priority, Status
from atende.tickets.queue import LAST_MESSAGE_CHARS, QueueFilters, queue_for
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.workspace.queue_rows import snippet

pytestmark = pytest.mark.django_db

LONG = "Meu pedido não chegou e o prazo de entrega já passou faz uma semana inteira. " * 5


def test_snippet_cuts_like_truncatechars() -> None:
    assert snippet(None) == ""
    assert snippet("x" * 90) == "x" * 90
    assert snippet("x" * 91) == "x" * 89 + "…"


def test_rows_print_links_labels_snippet_and_waiting_time(
        tenant: Any, admin_client: Client, make_ticket: Any) -> None:
    open_one = make_ticket(tenant.org, "Entrega atrasada", LONG, origin="email",
                           priority=Priority.HIGH, tags=["vip", "frete"])
    done = make_ticket(tenant.org, "Já resolvido", "Obrigado", origin="whatsapp")
    update_ticket(done, Actor(label="t"), status=Status.RESOLVED)

    # The query reads only the start of the last message.
    tickets, _next = queue_for(tenant.admin.memberships.get(), QueueFilters.from_query({}))
    assert len(tickets[0].last_message) == LAST_MESSAGE_CHARS  # type: ignore[attr-defined]

    page = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    row = re.search(rf'<tr[^>]+id="ticket-row-{open_one.pk}".*?</tr>', page, re.S)
    assert row is not None
    html = row.group(0)
    href = reverse("workspace:ticket", args=[open_one.pk])
    assert f'data-href="{href}"' in html and f'<a class="protocol" href="{href}">' in html
    assert 'class="badge channel-email">E-mail<' in html
    assert '<span class="priority priority-high">Alta</span>' in html
    assert '<span class="status status-new">Novo</span>' in html
    assert '<span class="tag">frete</span><span class="tag">vip</span>' in html
    assert f'<span class="snippet">{LONG[:89]}…</span>' in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">0\xa0minutos?</time>', html)

    # Nothing waits on a resolved ticket.
    page = admin_client.get("/?view=resolved", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    row = re.search(rf'<tr[^>]+id="ticket-row-{done.pk}".*?</tr>', page, re.S)
    assert row is not None
    assert "<time" not in row.group(0) and "<td>—</td>" in row.group(0)
    assert 'class="badge channel-whatsapp">WhatsApp<' in row.group(0)
    assert '<span class="status status-resolved">Resolvido</span>' in row.group(0)
