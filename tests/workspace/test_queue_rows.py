"""The queue's rows are worked out once per page in Python (labels, links, snippet, waiting
time): what they print must be what the template used to compute per row."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.template import engines
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.timesince import timesince
from django.utils.translation import gettext

from atende.tickets.models import Priority, Status
from atende.tickets.queue_query import LAST_MESSAGE_CHARS, QueueFilters, queue_for
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.workspace.queue_row_html import rows_html
from atende.workspace.queue_rows import WaitingWords, queue_rows, snippet

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


# The row as `{% partialdef queue-row %}` printed it before it moved to Python
# (workspace/queue_row_html.py): the Python version must print the same bytes.
TEMPLATE_ROW = """{% for t in rows %}
      <tr class="ticket-row priority-{{ t.priority }}" id="ticket-row-{{ t.pk }}"
          data-ticket-id="{{ t.pk }}" data-href="{{ t.href }}" data-sort="{{ t.sort_key }}">
        <td><span class="badge channel-{{ t.origin }}">{{ t.channel_label }}</span></td>
        <td><a class="protocol" href="{{ t.href }}">{{ t.protocol }}</a></td>
        <td>{{ t.contact }}</td>
        <td class="subject"><a href="{{ t.href }}">{{ t.subject }}</a>
          {% if t.snippet %}<span class="snippet">{{ t.snippet }}</span>{% endif %}
          {% for tag in t.tags %}<span class="tag">{{ tag }}</span>{% endfor %}</td>
        <td>{{ t.service|default:"—" }}</td>
        <td>{% if t.assignee %}{{ t.assignee }}{% else %}<span class="muted">{{ unassigned }}</span>{% endif %}</td>
        <td><span class="priority priority-{{ t.priority }}">{{ t.priority_label }}</span></td>
        <td><span class="status status-{{ t.status }}">{{ t.status_label }}</span></td>
        <td>{% if t.waiting_iso %}<time datetime="{{ t.waiting_iso }}">{{ t.waiting }}</time>{% else %}—{% endif %}</td>
        <td>{% if t.sla %}<time class="sla sla-{{ t.sla.state }}" datetime="{{ t.sla.due_iso }}">{{ t.sla.text }}</time>{% else %}—{% endif %}</td>
      </tr>
{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_python_rows_print_what_the_template_printed_and_escape_everything(
        tenant: Any, make_ticket: Any, make_agent: Any, language: str) -> None:
    agent, _client = make_agent(tenant.org, "o'neil@example.com", name="Zé <b>O'Neil</b>")
    hostile = make_ticket(tenant.org, "<script>alert('x')</script> & \"quoted\"",
                          "Olá <img src=x onerror=alert(1)> & 'aspas'",
                          name="Ana \"<i>\" D'Ávila", origin="email",
                          priority=Priority.URGENT, tags=["<vip>", "a&b"])
    update_ticket(hostile, Actor(label="t"), assignee=agent)
    make_ticket(tenant.org, "Sem responsável", "", origin="whatsapp")  # no snippet, no tags
    with translation.override(language):
        tickets, _next = queue_for(tenant.admin.memberships.get(), QueueFilters.from_query({}))
        rows = queue_rows(tickets)
        python = "".join(rows_html(rows))
        template = engines["django"].from_string(TEMPLATE_ROW).render(
            {"rows": rows, "unassigned": gettext("Unassigned")})
    assert python == template
    assert "<script>" not in python and "&lt;script&gt;alert(&#x27;x&#x27;)" in python
    assert "Zé &lt;b&gt;O&#x27;Neil&lt;/b&gt;" in python
    assert '<span class="tag">&lt;vip&gt;</span>' in python


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_waiting_words_print_what_timesince_prints(language: str) -> None:
    at = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    deltas = [timedelta(seconds=s) for s in (0, 59, 60, 61, 3599, 3600, 7260, 86399, 86400,
                                             90000, 7 * 86400, 15 * 86400 + 7200)]
    deltas += [timedelta(days=d) for d in (31, 45, 61, 364, 365, 366, 800)]
    with translation.override(language):
        words = WaitingWords()
        for delta in deltas * 2:  # the second time from the page's memo
            assert timesince(at - delta, at, time_strings=words) == timesince(  # type: ignore[arg-type]
                at - delta, at), delta
