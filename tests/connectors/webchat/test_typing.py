"""Typing signals both ways: the visitor's reach the agents' streams, the agent's reach
the visitor's; only on a chat the agent may see."""

from __future__ import annotations

from typing import Any

import pytest

from atende.channels.models import Channel
from atende.realtime.models import Event
from atende.tickets.models import Ticket
from tests.conftest import Tenant
from tests.connectors.webchat.conftest import Visitor, make_widget

pytestmark = pytest.mark.django_db


def typing_events() -> list[dict[str, Any]]:
    return [e.payload for e in Event.objects.filter(type="webchat.typing").order_by("pk")]


def test_the_visitor_typing_is_announced_once_they_have_a_chat(
        visitor: Visitor, widget: Channel) -> None:
    assert visitor.client.post(visitor.base + "typing", "{}", content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {visitor.token}").status_code == 204
    assert typing_events() == []  # nothing to type into yet
    visitor.say("oi")
    visitor.client.post(visitor.base + "typing", '{"typing": true}',
                        content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {visitor.token}")
    ticket = Ticket.objects.get(channel=widget)
    assert typing_events() == [{"ticket_id": ticket.pk, "from": "visitor", "typing": True}]


def test_the_agent_typing_on_a_chat_they_see_and_nowhere_else(
        visitor: Visitor, widget: Channel, admin_client: Any, other_tenant: Tenant) -> None:
    visitor.say("oi")
    ticket = Ticket.objects.get(channel=widget)
    url = f"/tickets/{ticket.pk}/chat-typing/"
    assert admin_client.post(url, {"typing": "1"}).status_code == 204
    assert typing_events()[-1] == {"ticket_id": ticket.pk, "from": "agent", "typing": True}
    other = Visitor(make_widget(other_tenant))
    other.start()
    other.say("olá")
    foreign = Ticket.objects.get(organization=other_tenant.org)
    assert admin_client.post(f"/tickets/{foreign.pk}/chat-typing/").status_code == 404
    assert len(typing_events()) == 1
