"""Business hours (WA-6): out of the channel's calendar, the customer gets the out-of-hours
message once per conversation, through the fake provider, and the ticket still reaches the
queue. Timestamps are the provider's (the fake's), within the last day so the 24-hour window
is open for the free-form notice."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from atende.automation.models import BusinessCalendar
from atende.channels.models import Channel
from atende.connectors.whatsapp.channels import form_initial, save_channel
from atende.connectors.whatsapp.models import OutOfHoursNotice
from atende.connectors.whatsapp.out_of_hours import notify_if_closed
from atende.tickets.models import OPEN_STATUSES, Direction, Message, Ticket
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks, channel_form
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
DEFAULT_PT = ("Olá! Nosso horário de atendimento é de segunda a sexta, das 08h às 18h. Seu "
              "chamado foi registrado e será atendido no próximo dia útil.")


def calendar(tenant: Tenant, name: str = "Comercial", **fields: Any) -> BusinessCalendar:
    # Tests here run at today's date: a public holiday must not close the calendar.
    fields.setdefault("public_holidays", False)
    return BusinessCalendar.objects.create(organization=tenant.org, name=name, **fields)


def use_calendar(channel: Channel, cal: BusinessCalendar | None, text: str = "") -> None:
    channel.business_calendar = cal
    channel.settings = {**channel.settings, "out_of_hours_message": text}
    channel.save()


def texts_sent(wa: FakeDialog360) -> list[str]:
    return [b["text"]["body"] for b in wa.sent if b["type"] == "text"]


def a_daytime_moment() -> datetime:
    """A moment of the last day whose São Paulo wall clock is between 02:00 and 20:59, so
    an hour either side (and UTC, three hours ahead) stays on the same day."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for hours_back in range(1, 24):
        at = now - timedelta(hours=hours_back)
        if 2 <= at.astimezone(SAO_PAULO).hour <= 20:
            return at
    raise AssertionError("unreachable")


def test_inside_hours_or_24x7_nothing_is_sent(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    wa.customer_sends(CUSTOMER, "Oi, sem calendário")  # no calendar: 24x7
    webhooks.flush()
    use_calendar(wa_channel, calendar(tenant, always_open=True))
    wa.customer_sends("5511912345678", "Oi, calendário aberto")
    webhooks.flush()
    assert texts_sent(wa) == []
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert Ticket.objects.count() == 2


def test_out_of_hours_message_goes_once_despite_three_messages_and_a_replay(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    use_calendar(wa_channel, calendar(tenant, hours={}))  # never open
    first = wa.customer_sends(CUSTOMER, "Boa noite")
    wa.customer_sends(CUSTOMER, "Alguém aí?")
    wa.customer_sends(CUSTOMER, "Preciso de ajuda")
    assert webhooks.flush() == [200, 200, 200]
    assert webhooks.post(first).status_code == 200  # the provider redelivers the first event
    assert texts_sent(wa) == [DEFAULT_PT]
    ticket = Ticket.objects.get()
    assert ticket.status in OPEN_STATUSES and ticket.assignee_id is None  # in the queue
    notices = ticket.messages.filter(direction=Direction.OUTBOUND)
    assert [m.text for m in notices] == [DEFAULT_PT]
    assert ticket.messages.filter(direction=Direction.INBOUND).count() == 3
    assert OutOfHoursNotice.objects.get(ticket=ticket).message == notices[0]
    # Asked again directly (another worker, a later message): still nothing more.
    assert notify_if_closed(wa_channel, ticket, datetime.now(UTC)) is None
    assert len(texts_sent(wa)) == 1


def test_holiday_is_closed_all_day_with_the_channel_text(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    at = a_daytime_moment()
    today = at.astimezone(SAO_PAULO).date().isoformat()
    use_calendar(wa_channel, calendar(tenant, always_open=True, holidays=[today]),
                 text="Hoje é feriado, voltamos amanhã.")
    wa.customer_sends(CUSTOMER, "Oi", at=at.timestamp())
    webhooks.flush()
    assert texts_sent(wa) == ["Hoje é feriado, voltamos amanhã."]


def test_the_calendar_time_zone_decides(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    at = a_daytime_moment()
    local = at.astimezone(SAO_PAULO)
    # Open exactly from the customer's minute (start inclusive) for an hour, São Paulo time.
    hours = {str(local.weekday()): [local.strftime("%H:%M"),
                                    (local + timedelta(hours=1)).strftime("%H:%M")]}
    use_calendar(wa_channel, calendar(tenant, "SP", timezone="America/Sao_Paulo",
                                      hours=hours))
    wa.customer_sends(CUSTOMER, "Dentro do horário", at=at.timestamp())
    webhooks.flush()
    assert texts_sent(wa) == []
    # The same wall-clock hours in UTC: three hours earlier in real time, so closed.
    use_calendar(wa_channel, calendar(tenant, "UTC", timezone="UTC", hours=hours))
    wa.customer_sends("5511912345678", "Mesmo relógio, outro fuso", at=at.timestamp())
    webhooks.flush()
    assert texts_sent(wa) == [DEFAULT_PT]


def test_end_time_is_exclusive(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    at = a_daytime_moment()
    local = at.astimezone(SAO_PAULO)
    hours = {str(local.weekday()): [(local - timedelta(hours=1)).strftime("%H:%M"),
                                    local.strftime("%H:%M")]}
    use_calendar(wa_channel, calendar(tenant, hours=hours))
    wa.customer_sends(CUSTOMER, "Às 18h em ponto", at=at.timestamp())
    webhooks.flush()
    assert texts_sent(wa) == [DEFAULT_PT]


def test_channel_form_offers_only_this_tenant_calendars_and_saves_the_choice(
        tenant: Tenant, other_tenant: Tenant, wa: FakeDialog360) -> None:
    mine = calendar(tenant)
    theirs = calendar(other_tenant, "Deles")
    refused = channel_form(tenant, business_calendar=theirs.pk)
    assert not refused.is_valid() and "business_calendar" in refused.errors
    form = channel_form(tenant, business_calendar=mine.pk, out_of_hours_message="Fechado.",
                        answer_reminder_hours="4")
    assert form.is_valid(), form.errors
    channel = save_channel(tenant.org, form).channel
    channel.refresh_from_db()
    assert channel.business_calendar == mine
    assert channel.settings["out_of_hours_message"] == "Fechado."
    assert channel.settings["answer_reminder_hours"] == 4
    initial = form_initial(channel)
    assert initial["business_calendar"] == mine.pk and initial["answer_reminder_hours"] == 4


def test_clock_is_the_provider_timestamp_not_processing_time(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    """A message written inside hours but delivered late is not answered as out of hours."""
    at = a_daytime_moment()
    local = at.astimezone(SAO_PAULO)
    hours = {str(local.weekday()): [local.strftime("%H:%M"),
                                    (local + timedelta(minutes=1)).strftime("%H:%M")]}
    use_calendar(wa_channel, calendar(tenant, hours=hours))
    assert time.time() - at.timestamp() > 60  # processed well after the calendar closed
    wa.customer_sends(CUSTOMER, "Escrito dentro do horário", at=at.timestamp())
    webhooks.flush()
    assert texts_sent(wa) == []


def test_a_channel_without_hours_follows_its_services_and_its_own_win(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    use_calendar(wa_channel, None, text="Equipe fora do horário.")
    service = wa_channel.service
    assert service is not None
    service.business_calendar = calendar(tenant, "Equipe", hours={})  # never open
    service.save()
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    assert texts_sent(wa) == ["Equipe fora do horário."]

    use_calendar(wa_channel, calendar(tenant, "Canal 24x7", always_open=True))
    wa.customer_sends("5511912345678", "Oi de novo")
    webhooks.flush()
    assert texts_sent(wa) == ["Equipe fora do horário."]  # the channel's own calendar wins
