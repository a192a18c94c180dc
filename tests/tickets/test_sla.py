"""SLA clocks (CORE-13): policy choice, due moments, first response, pause while pending,
resolution, and the breach sweep (once per clock, with its audit entry and event)."""

from __future__ import annotations

import datetime
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from atende.automation.models import BusinessCalendar
from atende.channels.models import Channel
from atende.contacts.services import find_or_create_contact
from atende.events import listen
from atende.tenancy.models import Service
from atende.tickets.models import (
    AuditEntry,
    FinalizationTag,
    Priority,
    SlaPolicy,
    Status,
    Ticket,
)
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import finalize, update_ticket
from atende.tickets.services.create import open_ticket
from atende.tickets.services.replies import post_message
from atende.tickets.services.sla import resolve_policy, set_scope, sweep_breaches

pytestmark = pytest.mark.django_db

heard: list[tuple[int, str]] = []


def _record(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    heard.append((payload["id"], payload["sla"]["clock"]))


listen("ticket.sla_breached", _record)

ACTOR = Actor(label="tests")


def _policy(org: Any, name: str, first: int | None = 30, resolution: int | None = 240,
            **kw: Any) -> SlaPolicy:
    return SlaPolicy.objects.create(organization=org, name=name, first_response_minutes=first,
                                    resolution_minutes=resolution, **kw)


def _ticket(tenant: Any, *, ago: timedelta = timedelta(0), **kw: Any) -> Ticket:
    contact = find_or_create_contact(tenant.org, "email", "ana@example.com", "Ana")
    ticket, _m = open_ticket(organization=tenant.org, contact=contact, subject="Ajuda",
                             description="Oi", actor=ACTOR, origin="api",
                             created_at=timezone.now() - ago, **kw)
    ticket.refresh_from_db()
    return ticket


def _reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_channel_policy_beats_service_policy_beats_default(tenant: Any,
                                                           other_tenant: Any) -> None:
    channel = Channel.objects.create(organization=tenant.org, kind="api", name="API")
    other_service = Service.objects.create(organization=tenant.org, name="Vendas")
    by_channel = _policy(tenant.org, "Canal", 10)
    by_service = _policy(tenant.org, "Serviço", 20)
    default = _policy(tenant.org, "Padrão", 40, is_default=True)
    _policy(other_tenant.org, "Outra empresa", 1, is_default=True)
    set_scope(by_channel, [channel], [])
    set_scope(by_service, [], [tenant.service])
    org = tenant.org.pk
    assert resolve_policy(org, channel.pk, tenant.service.pk) == by_channel
    assert resolve_policy(org, None, tenant.service.pk) == by_service
    assert resolve_policy(org, None, other_service.pk) == default
    assert resolve_policy(org, None, None) == default
    by_channel.is_active = False
    by_channel.save()
    assert resolve_policy(org, channel.pk, tenant.service.pk) == by_service
    # Another organisation's default never reaches this one.
    SlaPolicy.objects.filter(pk=default.pk).update(is_default=False)
    assert resolve_policy(org, None, None) is None
    # Nor does this organisation's channel policy reach a ticket of the other one.
    by_channel.is_active = True
    by_channel.save()
    assert resolve_policy(other_tenant.org.pk, channel.pk, None).name == "Outra empresa"


def test_no_policy_means_no_clocks(tenant: Any) -> None:
    ticket = _ticket(tenant)
    assert ticket.sla_policy_id is None
    assert ticket.first_response_due_at is None and ticket.sla_due_at is None


def test_due_moments_on_create_and_priority_and_service_change(tenant: Any) -> None:
    policy = _policy(tenant.org, "Padrão", 30, 240, is_default=True,
                     urgent_first_response_minutes=5, urgent_resolution_minutes=60)
    ticket = _ticket(tenant)
    created = ticket.created_at
    assert ticket.sla_policy_id == policy.pk
    assert ticket.first_response_due_at == created + timedelta(minutes=30)
    assert ticket.resolution_due_at == created + timedelta(minutes=240)
    assert ticket.sla_due_at == ticket.sla_check_at == ticket.first_response_due_at

    update_ticket(ticket, ACTOR, priority=Priority.URGENT)
    ticket = _reload(ticket)
    assert ticket.first_response_due_at == created + timedelta(minutes=5)
    assert ticket.resolution_due_at == created + timedelta(minutes=60)
    # High has no override here: the base targets apply.
    update_ticket(ticket, ACTOR, priority=Priority.HIGH)
    assert _reload(ticket).first_response_due_at == created + timedelta(minutes=30)

    strict = _policy(tenant.org, "Vendas", 10, None)
    sales = Service.objects.create(organization=tenant.org, name="Vendas")
    set_scope(strict, [], [sales])
    update_ticket(ticket, ACTOR, service=sales)
    ticket = _reload(ticket)
    assert ticket.sla_policy_id == strict.pk
    assert ticket.first_response_due_at == created + timedelta(minutes=10)
    assert ticket.resolution_due_at is None


def test_business_hours_calendar_counts_only_open_time(tenant: Any) -> None:
    calendar = BusinessCalendar.objects.create(
        organization=tenant.org, name="Comercial", timezone="UTC", public_holidays=False,
        hours={str(d): ["08:00", "18:00"] for d in range(7)})
    _policy(tenant.org, "Padrão", 60, None, is_default=True, calendar=calendar)
    ticket = _ticket(tenant)
    due = ticket.first_response_due_at
    assert due is not None
    created = ticket.created_at.astimezone(datetime.UTC)
    if 8 <= created.hour < 17:
        assert due == ticket.created_at + timedelta(hours=1)
    else:
        assert due.astimezone(datetime.UTC).hour in (8, 9)
        assert due > ticket.created_at


def test_first_public_answer_meets_the_first_response(tenant: Any) -> None:
    _policy(tenant.org, "Padrão", 30, 240, is_default=True)
    ticket = _ticket(tenant)
    post_message(ticket, Actor(user=tenant.admin), text="nota", internal=True)
    assert _reload(ticket).sla_due_at == ticket.first_response_due_at
    post_message(ticket, Actor(user=tenant.admin), text="Olá!")
    ticket = _reload(ticket)
    assert ticket.first_response_at is not None
    assert ticket.sla_due_at == ticket.sla_check_at == ticket.resolution_due_at


def test_pending_pauses_the_resolution_clock(tenant: Any) -> None:
    _policy(tenant.org, "Padrão", None, 60, is_default=True)
    ticket = _ticket(tenant, ago=timedelta(minutes=30))
    due = ticket.resolution_due_at
    assert due is not None
    update_ticket(ticket, ACTOR, status=Status.PENDING)
    ticket = _reload(ticket)
    assert ticket.sla_paused_at is not None
    assert ticket.sla_due_at is None and ticket.sla_check_at is None
    # Two hours waiting on the customer...
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_paused_at=ticket.sla_paused_at - timedelta(hours=2))
    # ...do not count: nothing is breached meanwhile, and the due moment moves by them.
    assert sweep_breaches(timezone.now() + timedelta(hours=2)) == 0
    update_ticket(ticket, ACTOR, status=Status.OPEN)
    ticket = _reload(ticket)
    assert ticket.sla_paused_at is None
    assert abs(ticket.sla_paused_seconds - 7200) < 5
    assert abs((ticket.resolution_due_at - due) - timedelta(hours=2)) < timedelta(seconds=5)
    assert ticket.sla_due_at == ticket.resolution_due_at


def test_resolving_meets_the_resolution_and_reopening_resumes(tenant: Any) -> None:
    _policy(tenant.org, "Padrão", None, 60, is_default=True)
    ticket = _ticket(tenant)
    tag = FinalizationTag.objects.create(organization=tenant.org, name="Resolvido")
    finalize(ticket, ACTOR, tag)
    ticket = _reload(ticket)
    assert ticket.status == Status.RESOLVED and ticket.sla_due_at is None
    assert sweep_breaches(timezone.now() + timedelta(days=3)) == 0
    update_ticket(ticket, ACTOR, status=Status.OPEN)
    ticket = _reload(ticket)
    assert ticket.sla_due_at is not None and ticket.sla_check_at is not None


def test_breach_sweep_records_each_clock_once(tenant: Any) -> None:
    heard.clear()
    _policy(tenant.org, "Padrão", 30, 240, is_default=True)
    ticket = _ticket(tenant, ago=timedelta(hours=2))
    fresh = _ticket(tenant)
    assert sweep_breaches() == 1
    assert sweep_breaches() == 0
    ticket = _reload(ticket)
    assert ticket.first_response_breached_at == ticket.first_response_due_at
    assert ticket.resolution_breached_at is None
    # The sweep's index entry moved on to the next clock still to be checked.
    assert ticket.sla_check_at == ticket.resolution_due_at
    assert ticket.sla_due_at == ticket.first_response_due_at  # still overdue in the queue
    entries = AuditEntry.objects.filter(ticket=ticket, action="sla_breached")
    assert [(e.field, e.actor_label) for e in entries] == [("first_response", "system:sla")]
    assert heard == [(ticket.pk, "first_response")]

    later = timezone.now() + timedelta(hours=3)
    assert sweep_breaches(later) == 2  # the old ticket's resolution, the fresh one's answer
    assert sweep_breaches(later) == 0
    assert AuditEntry.objects.filter(ticket=ticket, action="sla_breached").count() == 2
    assert sorted(heard) == sorted([(ticket.pk, "first_response"), (ticket.pk, "resolution"),
                                    (fresh.pk, "first_response")])
    ticket = _reload(ticket)
    assert ticket.sla_check_at is None and ticket.resolution_breached_at is not None

    # Answering late keeps the breach on record; the clock no longer runs.
    post_message(ticket, Actor(user=tenant.admin), text="Desculpe a demora")
    ticket = _reload(ticket)
    assert ticket.first_response_breached_at is not None
    assert ticket.sla_due_at == ticket.resolution_due_at


def test_set_scope_moves_channels_and_services(tenant: Any) -> None:
    policy = _policy(tenant.org, "Canal")
    a = Channel.objects.create(organization=tenant.org, kind="api", name="A")
    b = Channel.objects.create(organization=tenant.org, kind="api", name="B")
    set_scope(policy, [a, b], [tenant.service])
    set_scope(policy, [b], [])
    assert list(policy.channel_links.values_list("channel_id", flat=True)) == [b.pk]
    assert not policy.service_links.exists()


def test_an_absurd_target_set_outside_the_form_is_capped_not_a_crash(tenant: Any) -> None:
    _policy(tenant.org, "Eterna", 2_000_000_000, 2_000_000_000, is_default=True)
    ticket = _ticket(tenant)
    assert ticket.first_response_due_at == ticket.created_at + timedelta(days=366)
