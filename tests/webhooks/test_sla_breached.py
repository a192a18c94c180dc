"""`ticket.sla_breached` end to end: subscribed through the API, sent by the periodic job to a
real receiver once per missed target, and the due/breach moments in the ticket API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from atende import jobs
from atende.tickets.models import SlaPolicy, Ticket
from tests.conftest import Tenant
from tests.fakes.http_receiver import HttpReceiver
from tests.webhooks.conftest import open_ticket, subscribe

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


def test_breach_is_delivered_once_and_shown_in_the_api(
        tenant: Tenant, other_tenant: Tenant, receiver: HttpReceiver,
        django_capture_on_commit_callbacks: Capture) -> None:
    policy = SlaPolicy.objects.create(organization=tenant.org, name="Padrão", is_default=True,
                                      first_response_minutes=15, resolution_minutes=480)
    subscribe(tenant.client, receiver.url, ["ticket.sla_breached"])
    subscribe(other_tenant.client, receiver.url + "other", ["ticket.sla_breached"])
    created = open_ticket(tenant.client)
    assert created["sla_policy_id"] == policy.pk
    assert created["first_response_due_at"] is not None
    assert created["first_response_breached_at"] is None

    # The ticket was opened an hour ago: its first response is 45 minutes late.
    ticket = Ticket.objects.get(pk=created["id"])
    back = timedelta(hours=1)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=ticket.created_at - back,
        first_response_due_at=ticket.first_response_due_at - back,
        resolution_due_at=ticket.resolution_due_at - back,
        sla_due_at=ticket.sla_due_at - back, sla_check_at=ticket.sla_check_at - back)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.mark_sla_breaches.call_local()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.mark_sla_breaches.call_local()

    [request] = receiver.requests
    body = request.json()
    assert body["type"] == "ticket.sla_breached"
    assert body["organization_id"] == tenant.org.pk
    assert body["data"]["id"] == ticket.pk
    assert body["data"]["sla"]["clock"] == "first_response"
    assert body["data"]["sla"]["policy_id"] == policy.pk

    detail = tenant.client.get(f"/api/v1/tickets/{ticket.pk}").json()
    assert detail["first_response_breached_at"] is not None
    assert detail["resolution_breached_at"] is None
    # Another organisation neither sees the ticket nor hears of its breach.
    assert other_tenant.client.get(f"/api/v1/tickets/{ticket.pk}").status_code == 404
