"""The survey by e-mail: sent through the channel's real SMTP after the resolution (and its
delay), a signed link to the public rating page, one answer per ticket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from atende.channels.models import Channel
from atende.csat.models import AnswerSource, Survey, SurveyStatus
from atende.csat.scheduling import send_due_invitations
from atende.realtime.models import Event
from atende.tickets.models import Direction, Message, Status
from atende.webhooks.models import WebhookDelivery
from atende.webhooks.services import create_subscription
from tests.conftest import Tenant
from tests.csat.conftest import link_path, mailed_ticket, resolve, turn_on
from tests.fakes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


def test_resolving_mails_the_signed_link_and_the_customer_rates_once(
        tenant: Tenant, mail_channel: Channel, smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    create_subscription(tenant.org.pk, "https://hooks.invalid/csat", ["csat.received"])
    ticket = mailed_ticket(mail_channel)
    resolve(ticket, django_capture_on_commit_callbacks)

    [delivery] = smtp_sink.deliveries
    mail = delivery.message()
    assert delivery.rcpt_tos == ["maria@example.com"]
    assert ticket.protocol in mail["Subject"] and mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_body(("plain",)).get_content()
    assert "Como você avalia" in text and "?score=5" in text
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.SENT and survey.recipient == "maria@example.com"
    assert survey.channel == mail_channel and survey.service == tenant.service

    customer = Client()
    path = link_path(text)
    page = customer.get(path, {"score": "4"})
    assert page.status_code == 200 and ticket.protocol in page.content.decode()
    assert 'value="4" required checked' in page.content.decode()
    assert not Survey.objects.get(pk=survey.pk).answered  # opening the link records nothing
    with django_capture_on_commit_callbacks(execute=True):
        done = customer.post(path, {"score": "4", "comment": "Rápido e educado"})
    assert done.status_code == 200 and "4 de 5" in done.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.comment, survey.answered_via) == (
        4, "Rápido e educado", AnswerSource.LINK)
    assert Event.objects.filter(type="csat.received").count() == 1
    hook = WebhookDelivery.objects.get(event_type="csat.received")
    assert (hook.payload["ticket_id"], hook.payload["score"], hook.payload["agent_id"]) == (
        ticket.pk, 4, ticket.assignee_id)
    assert hook.payload["channel_id"] == mail_channel.pk

    again = customer.post(path, {"score": "1", "comment": "mudei de ideia"})
    assert again.status_code == 409
    survey.refresh_from_db()
    assert survey.score == 4 and survey.comment == "Rápido e educado"
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    # The invitation is no message of the timeline: only the customer's mail is there.
    assert list(Message.objects.filter(ticket=ticket).values_list("direction", flat=True)) \
        == [Direction.INBOUND]


def test_the_delay_waits_and_the_sweep_sends_what_a_restart_lost(
        mail_channel: Channel, smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    turn_on(mail_channel, delay_minutes=30)
    ticket = mailed_ticket(mail_channel)
    before = timezone.now()
    resolve(ticket, django_capture_on_commit_callbacks)

    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.SCHEDULED and not smtp_sink.deliveries
    assert survey.send_after >= before + timedelta(minutes=30)
    assert send_due_invitations() == 0 and not smtp_sink.deliveries  # not due yet

    # Half an hour later, with the queued task gone (a restart): the sweep sends it, once.
    Survey.objects.filter(pk=survey.pk).update(send_after=timezone.now() - timedelta(seconds=1))
    assert send_due_invitations() == 1
    assert send_due_invitations() == 0
    assert len(smtp_sink.deliveries) == 1
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.SENT


def test_a_ticket_reopened_before_the_delay_is_not_surveyed_until_resolved_again(
        mail_channel: Channel, smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    turn_on(mail_channel, delay_minutes=10)
    ticket = mailed_ticket(mail_channel)
    resolve(ticket, django_capture_on_commit_callbacks)
    resolve(ticket, django_capture_on_commit_callbacks, status="open")
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.CANCELLED
    Survey.objects.filter(pk=survey.pk).update(send_after=timezone.now() - timedelta(hours=1))
    assert send_due_invitations() == 0 and not smtp_sink.deliveries

    turn_on(mail_channel, delay_minutes=0)
    resolve(ticket, django_capture_on_commit_callbacks)
    assert len(smtp_sink.deliveries) == 1
    # Resolving again after the invitation left sends no second one.
    resolve(ticket, django_capture_on_commit_callbacks, status="open")
    resolve(ticket, django_capture_on_commit_callbacks)
    assert len(smtp_sink.deliveries) == 1


def test_a_channel_with_the_survey_off_sends_nothing(
        mail_channel: Channel, smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    mail_channel.settings = {**mail_channel.settings, "csat": {"enabled": False}}
    mail_channel.save()
    ticket = mailed_ticket(mail_channel)
    resolve(ticket, django_capture_on_commit_callbacks)
    assert not smtp_sink.deliveries and not Survey.objects.exists()


def test_the_channel_wording_and_language_are_used(
        tenant: Tenant, mail_channel: Channel, smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    tenant.org.language = "en"
    tenant.org.save()
    turn_on(mail_channel, **{"en": "Hi {name}, rate ticket {protocol}!",
                             "pt-br": "Olá {name}"})
    ticket = mailed_ticket(mail_channel)
    resolve(ticket, django_capture_on_commit_callbacks)
    text = smtp_sink.deliveries[0].message().get_body(("plain",)).get_content()
    assert f"Hi Maria Souza, rate ticket {ticket.protocol}!" in text
    assert "5 - Excellent" in text
    page = Client().get(link_path(text))
    assert "How did we do?" in page.content.decode()
    assert "Como foi" in Client().get(link_path(text), {"lang": "pt-br"}).content.decode()


def test_a_refused_smtp_delivery_is_retried_then_shown_on_the_survey(
        mail_channel: Channel, smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    smtp_sink.fail_next("550 5.1.1 no such user")
    ticket = mailed_ticket(mail_channel)
    resolve(ticket, django_capture_on_commit_callbacks)
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.FAILED and "550" in survey.failure
