"""The survey through the kit's hook on Telegram (a digit keyboard) and the API channel
(an event to its webhook, answered with the channel's key)."""

from __future__ import annotations

from typing import Any

import pytest

from atende.channels.models import Channel
from atende.csat.models import AnswerSource, Survey, SurveyStatus
from atende.tickets.models import Status, Ticket
from atende.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.connectors.conftest import ApiChannel
from tests.connectors.telegram.conftest import Updates
from tests.csat.conftest import resolve, turn_on
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.django_db


def test_telegram_sends_a_digit_keyboard_and_takes_the_digit(
        tg: FakeTelegram, tg_channel: Channel, updates: Updates,
        django_capture_on_commit_callbacks: Any) -> None:
    turn_on(tg_channel)
    tg.customer_sends(text="Meu boleto não chegou")
    updates.flush()
    ticket = Ticket.objects.get(channel=tg_channel)
    resolve(ticket, django_capture_on_commit_callbacks)

    invitation = tg.sent[-1]
    assert ticket.protocol in invitation["text"] and "/csat/" in invitation["text"]
    assert [b["text"] for b in invitation["reply_markup"]["keyboard"][0]] == \
        ["1", "2", "3", "4", "5"]
    tg.customer_sends(text="3")
    updates.flush()
    survey = Survey.objects.get(ticket=ticket)
    assert (survey.score, survey.answered_via) == (3, AnswerSource.REPLY)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_the_api_channel_gets_an_event_and_answers_with_its_key(
        api_channel: ApiChannel, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Any) -> None:
    turn_on(api_channel.channel)
    assert api_channel.post().status_code == 201
    ticket = Ticket.objects.get(channel=api_channel.channel)
    resolve(ticket, django_capture_on_commit_callbacks)

    [request] = [r for r in receiver.requests if r.json().get("event") == "csat.invitation"]
    body = request.json()
    assert body["ticket"]["protocol"] == ticket.protocol and body["conversation_id"] == "conv-1"
    assert [s["score"] for s in body["scores"]] == [5, 4, 3, 2, 1] and "/csat/" in body["url"]
    assert verify(api_channel.signing_secret, request.body, request.header(SIGNATURE_HEADER),
                  request.header(TIMESTAMP_HEADER))
    assert Survey.objects.get(ticket=ticket).status == SurveyStatus.SENT

    url = f"/api/v1/channels/{api_channel.channel.pk}/csat"
    answer = api_channel.client.post(url, {"ticket_id": ticket.pk, "score": 2,
                                           "comment": "Demorou"})
    assert answer.status_code == 201 and answer.json()["score"] == 2
    again = api_channel.client.post(url, {"ticket_id": ticket.pk, "score": 5})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_answered"
    assert api_channel.client.post(url, {"ticket_id": ticket.pk, "score": 6}).status_code == 400
