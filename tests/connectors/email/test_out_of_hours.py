"""The out-of-hours answer on e-mail (CORE-9): a conversation whose first mail was written
while the channel (or its service) was closed gets the "outside business hours" mail instead
of "ticket opened", once per conversation and never to an auto-reply; sent through a real
SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email import message_from_bytes, policy
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from atende.automation.models import BusinessCalendar
from atende.channels.models import Channel
from atende.connectors.email.models import AutomaticMail, NotificationEvent
from atende.connectors.email.receive import receive
from atende.tickets.models import Message, Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import SMTP_USER, customer_mail, make_email_channel, turn_on
from tests.fakes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")
# Monday to Friday, 08:00-18:00 in São Paulo; 23 Nov 2026 is a Monday, 22 Nov a Sunday.
WEEKDAYS = {str(d): ["08:00", "18:00"] for d in range(5)}
SUNDAY = datetime(2026, 11, 22, 10, 0, tzinfo=SP)
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SP)


@pytest.fixture
def channel(tenant: Tenant, smtp_sink: SmtpSink) -> Channel:
    channel = make_email_channel(tenant, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
                                 smtp_security="none", smtp_username=SMTP_USER)
    channel.business_calendar = BusinessCalendar.objects.create(
        organization=tenant.org, name="Comercial", hours=WEEKDAYS)
    channel.save()
    return channel


@pytest.fixture
def deliver(django_capture_on_commit_callbacks: Any) -> Callable[..., Ticket]:
    def take_in(channel: Channel, written: datetime, **headers: str) -> Ticket:
        mail = message_from_bytes(customer_mail(**headers), policy=policy.default)
        mail.replace_header("Date", format_datetime(written))
        with django_capture_on_commit_callbacks(execute=True):
            receipt = receive(channel, mail.as_bytes())
        return Message.objects.get(pk=receipt.message_id).ticket

    return take_in


def subjects(smtp_sink: SmtpSink) -> list[str]:
    return [d.message()["Subject"].split("] ", 1)[1] for d in smtp_sink.deliveries]


def test_a_mail_written_while_closed_gets_the_out_of_hours_answer_once(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    turn_on(channel, NotificationEvent.OUT_OF_HOURS)
    ticket = deliver(channel, SUNDAY, subject="Boleto", message_id="<s1@cliente.example>")
    assert subjects(smtp_sink) == [
        "Recebemos sua mensagem fora do nosso horário de atendimento: Boleto"]
    assert AutomaticMail.objects.get().event == NotificationEvent.OUT_OF_HOURS
    # More mails of the same conversation, still on Sunday: nothing more is sent.
    again = deliver(channel, SUNDAY, subject="Re: Boleto", In_Reply_To="<s1@cliente.example>")
    assert again == ticket and len(smtp_sink.deliveries) == 1
    # A new conversation written inside the hours gets the usual acknowledgement.
    deliver(channel, MONDAY, subject="Entrega")
    assert subjects(smtp_sink)[1] == "Recebemos sua mensagem: Entrega"


def test_out_of_hours_alone_answers_only_closed_times(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OUT_OF_HOURS)
    deliver(channel, MONDAY, subject="Dentro do horário")
    assert smtp_sink.deliveries == []
    deliver(channel, SUNDAY, subject="Domingo")
    assert subjects(smtp_sink) == [
        "Recebemos sua mensagem fora do nosso horário de atendimento: Domingo"]


def test_never_to_an_auto_reply_and_a_public_holiday_is_closed(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OUT_OF_HOURS)
    deliver(channel, SUNDAY, subject="Ausente", Auto_Submitted="auto-replied")
    assert smtp_sink.deliveries == []
    # Friday 20 Nov 2026, 10:00: a weekday, but the Black Consciousness national holiday.
    deliver(channel, datetime(2026, 11, 20, 10, 0, tzinfo=SP), subject="Feriado")
    assert subjects(smtp_sink) == [
        "Recebemos sua mensagem fora do nosso horário de atendimento: Feriado"]


def test_a_channel_without_hours_follows_its_service(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    turn_on(channel, NotificationEvent.OUT_OF_HOURS)
    calendar = channel.business_calendar
    channel.business_calendar = None
    channel.save()
    deliver(channel, SUNDAY, subject="Sem calendário")  # 24x7: the usual acknowledgement
    tenant.service.business_calendar = calendar
    tenant.service.save()
    deliver(channel, SUNDAY, subject="Calendário da equipe")
    assert subjects(smtp_sink) == [
        "Recebemos sua mensagem: Sem calendário",
        "Recebemos sua mensagem fora do nosso horário de atendimento: Calendário da equipe"]
