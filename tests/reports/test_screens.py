"""The report screens: figures in context, scoping by service and organisation, and clear
answers to bad filters (RP-1..4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from atende.reports import rollups
from atende.tenancy.models import AccessProfile, Membership, Permission, Role, Service, User
from atende.tickets.models import Status
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.replies import post_message

pytestmark = pytest.mark.django_db
SCREENS = ["reports:dashboard", "reports:period", "reports:agents", "reports:sla"]


def _signed_in(org: Any, email: str, role: str = Role.AGENT,
               permissions: list[str] | None = None) -> tuple[User, Client, Membership]:
    user = User.objects.create_user(email, None, name=email.split("@")[0].title())
    profile = AccessProfile.objects.create(organization=org, name=email,
                                           permissions=permissions or [])
    membership = Membership.objects.create(organization=org, user=user, role=role,
                                           access_profile=profile)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return user, client, membership


@pytest.mark.parametrize("name", SCREENS)
def test_every_report_opens_with_its_charts_and_tables(admin_client: Client, tenant: Any,
                                                       make_ticket: Any, name: str) -> None:
    ticket = make_ticket(tenant.org, service=tenant.service)
    post_message(ticket, Actor(user=tenant.admin), text="Olá")
    rollups.drain(tenant.org.pk)
    response = admin_client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<canvas" in body and "data-chart-table" in body
    assert 'src="/static/reports/vendor/chart.umd.min.js"' in body


def test_the_dashboard_counts_what_happened(admin_client: Client, tenant: Any,
                                            make_ticket: Any) -> None:
    actor = Actor(user=tenant.admin)
    tickets = [make_ticket(tenant.org, service=tenant.service) for _ in range(3)]
    post_message(tickets[0], actor, text="Resolvido")
    update_ticket(tickets[0], actor, status=Status.RESOLVED)
    update_ticket(tickets[0], actor, status=Status.OPEN)  # reopened
    update_ticket(tickets[1], actor, status=Status.RESOLVED)
    rollups.drain(tenant.org.pk)
    report = admin_client.get(reverse("reports:dashboard")).context["report"]
    today = report.tables[1].rows[-1]
    assert today[1:] == [3, 2, 2]  # opened, resolved (twice), backlog (one was reopened)
    total = report.tables[0].rows[-1]
    assert total[0] == "Total" and total[1] == 3 and total[3] is not None
    assert total[-1] == "No answers yet"


def test_a_supervisor_sees_only_their_services(tenant: Any, make_ticket: Any) -> None:
    other = Service.objects.create(organization=tenant.org, name="Vendas")
    for _ in range(2):
        make_ticket(tenant.org, service=tenant.service)
    for _ in range(5):
        make_ticket(tenant.org, service=other)
    rollups.drain(tenant.org.pk)
    _user, client, membership = _signed_in(tenant.org, "sup@acme.test", Role.SUPERVISOR)
    membership.services.add(tenant.service)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    assert response.context["report"].tables[0].rows[-1][1] == 2
    # Another service's figures cannot be asked for.
    refused = client.get(reverse("reports:dashboard"), {"service": other.pk})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()


def test_no_figure_crosses_organisations(tenant: Any, other_tenant: Any,
                                         make_ticket: Any, admin_client: Client) -> None:
    for _ in range(4):
        make_ticket(other_tenant.org, service=other_tenant.service)
    make_ticket(tenant.org, service=tenant.service)
    rollups.drain(other_tenant.org.pk)
    rollups.drain(tenant.org.pk)
    report = admin_client.get(reverse("reports:dashboard")).context["report"]
    assert report.tables[0].rows[-1][1] == 1
    # The other organisation's service is unknown here.
    response = admin_client.get(reverse("reports:period"),
                                {"service": other_tenant.service.pk, "by": "service"})
    assert response.status_code == 400


@pytest.mark.parametrize(("params", "message"), [
    ({"start": "2026-03-10", "end": "2026-03-01"}, "The period starts after it ends."),
    ({"start": "2020-01-01", "end": "2024-01-01"}, "A period is at most 366 days long."),
    ({"start": "1900-01-01", "end": "1900-01-02"}, "Choose a period between 2000 and today."),
    ({"start": "yesterday"}, "Enter a valid date."),
    ({"colour": "blue"}, "Unknown filter: colour."),
    ({"by": "weather"}, "Select a valid choice."),
    ({"channel": "abc"}, "Select a valid choice."),
])
def test_bad_filters_get_a_clear_400(admin_client: Client, params: dict[str, str],
                                     message: str) -> None:
    response = admin_client.get(reverse("reports:period"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_period_report_compares_with_the_previous_period(
        admin_client: Client, tenant: Any, make_ticket: Any) -> None:
    make_ticket(tenant.org, service=tenant.service, category="boleto")
    rollups.drain(tenant.org.pk)
    response = admin_client.get(reverse("reports:period"), {"by": "category"})
    table = response.context["report"].tables[0]
    assert table.rows == [["boleto", 1, 0, "new", 0, 0, "—", None, None, None, None]]


def test_the_sla_screen_lists_tickets_at_risk_that_the_agent_may_see(
        tenant: Any, make_ticket: Any) -> None:
    from django.utils import timezone

    from atende.tickets.models import Ticket

    mine = make_ticket(tenant.org, subject="Meu", service=tenant.service)
    hidden = make_ticket(tenant.org, subject="Outro")
    Ticket.objects.filter(pk__in=[mine.pk, hidden.pk]).update(sla_due_at=timezone.now())
    _user, client, membership = _signed_in(tenant.org, "sup@acme.test", Role.SUPERVISOR)
    membership.services.add(tenant.service)
    report = client.get(reverse("reports:sla")).context["report"]
    at_risk = report.tables[-1].rows
    assert [row[1] for row in at_risk] == ["Meu"]


def test_the_nav_shows_reports_only_to_those_who_hold_the_permission(
        tenant: Any, admin_client: Client) -> None:
    assert reverse("reports:dashboard") in admin_client.get("/").content.decode()
    _user, client, _m = _signed_in(tenant.org, "plain@acme.test")
    assert reverse("reports:dashboard") not in client.get("/").content.decode()
    _user, client, _m = _signed_in(tenant.org, "analyst@acme.test",
                                   permissions=[Permission.REPORTS])
    assert client.get(reverse("reports:agents")).status_code == 200
