"""The survey on WhatsApp through the 360dialog fake: an interactive list within Meta's
limits, and the customer's choice (or a lone digit) recorded as the answer without
reopening the ticket, once, whatever the order and repetition of the deliveries."""

from __future__ import annotations

import random
from typing import Any

import pytest

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.csat.models import AnswerSource, Survey, SurveyStatus
from atende.tickets.models import Direction, Message, Status, Ticket
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks
from tests.csat.conftest import resolve, turn_on
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


def _choice(score: int) -> dict[str, Any]:
    return {"type": "list_reply", "list_reply": {"id": f"csat:{score}",
                                                 "title": f"{score} - Nota"}}


@pytest.fixture
def resolved(wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks,
             django_capture_on_commit_callbacks: Any) -> Ticket:
    turn_on(wa_channel)
    wa.customer_sends(CUSTOMER, "Meu pedido atrasou")
    assert webhooks.flush() == [200]
    ticket = Ticket.objects.get(channel=wa_channel)
    resolve(ticket, django_capture_on_commit_callbacks)
    webhooks.flush()  # the invitation's own sent/delivered statuses
    return ticket


def _inbound(ticket: Ticket) -> int:
    return Message.objects.filter(ticket__contact=ticket.contact,
                                  direction=Direction.INBOUND).count()


def test_resolving_sends_an_interactive_list_of_the_five_scores(
        wa: FakeDialog360, resolved: Ticket) -> None:
    [invitation] = [b for b in wa.sent if b["type"] == "interactive"]
    interactive = invitation["interactive"]
    assert invitation["to"] == CUSTOMER and interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == ["csat:5", "csat:4", "csat:3", "csat:2", "csat:1"]
    assert resolved.protocol in interactive["body"]["text"]
    assert "/csat/" in interactive["body"]["text"]  # the link, for a comment
    assert Survey.objects.get(ticket=resolved).status == SurveyStatus.SENT


def test_the_customers_choice_is_the_answer_and_does_not_reopen(
        wa: FakeDialog360, resolved: Ticket, webhooks: Webhooks) -> None:
    before = _inbound(resolved)
    wa.customer_sends(CUSTOMER, kind="interactive", content=_choice(4))
    assert webhooks.flush() == [200]

    survey = Survey.objects.get(ticket=resolved)
    assert (survey.score, survey.answered_via) == (4, AnswerSource.REPLY)
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED and Ticket.objects.count() == 1
    assert _inbound(resolved) == before  # no message, no noise in the queue
    event = InboundEvent.objects.filter(channel=resolved.channel).latest("pk")
    assert event.status == InboundStatus.PROCESSED and event.message_id is None
    assert event.error == "satisfaction survey answer"


def test_a_lone_digit_counts_and_other_text_is_a_message(
        wa: FakeDialog360, resolved: Ticket, webhooks: Webhooks) -> None:
    wa.customer_sends(CUSTOMER, " 5 ")
    webhooks.flush()
    assert Survey.objects.get(ticket=resolved).score == 5

    wa.customer_sends(CUSTOMER, "5 estrelas, mas tenho outra dúvida")
    webhooks.flush()
    resolved.refresh_from_db()
    # An ordinary message reopens the ticket (or opens one): the survey stays as answered.
    assert resolved.status == Status.OPEN or Ticket.objects.count() == 2
    assert Survey.objects.get(ticket=resolved).score == 5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_repeated_and_reordered_deliveries_record_one_answer(
        wa: FakeDialog360, resolved: Ticket, webhooks: Webhooks, seed: int) -> None:
    bodies = [wa.customer_sends(CUSTOMER, kind="interactive", content=_choice(score))
              for score in (2, 4)]
    wa.outbox.clear()
    deliveries = bodies + bodies  # every body delivered twice, in a seeded order
    random.Random(seed).shuffle(deliveries)
    assert {webhooks.post(body).status_code for body in deliveries} == {200}

    survey = Survey.objects.get(ticket=resolved)
    first = next(b for b in deliveries)
    expected = int(first["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]
                   ["list_reply"]["id"].removeprefix("csat:"))
    assert survey.score == expected  # the first processed stands; the others are repeats
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED and Ticket.objects.count() == 1


def test_a_digit_with_no_invitation_is_an_ordinary_message(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    turn_on(wa_channel)
    wa.customer_sends(CUSTOMER, "4")
    webhooks.flush()
    assert Message.objects.get(direction=Direction.INBOUND).text == "4"
    assert not Survey.objects.exists()


def test_outside_the_24_hour_window_the_invitation_is_not_sent(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks,
        django_capture_on_commit_callbacks: Any) -> None:
    turn_on(wa_channel)
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    ticket = Ticket.objects.get(channel=wa_channel)
    Message.objects.filter(ticket=ticket).update(
        created_at=ticket.created_at.replace(year=ticket.created_at.year - 1))
    resolve(ticket, django_capture_on_commit_callbacks)
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.FAILED and "24" in survey.failure
    assert not [b for b in wa.sent if b["type"] == "interactive"]
