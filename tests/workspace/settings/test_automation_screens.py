"""Settings screens for saved replies and business-hours calendars."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.automation.models import BusinessCalendar, SavedReply
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_saved_reply_screen_checks_variables(tenant: Tenant, other_tenant: Tenant,
                                             admin_client: Client) -> None:
    bad = admin_client.post("/settings/saved-replies/new/",
                            {"title": "Oi", "body": "Oi {{contact.cpf}}"})
    assert "Unknown variables: {{contact.cpf}}" in bad.content.decode()
    admin_client.post("/settings/saved-replies/new/",
                      {"title": "Oi", "body": "Oi {{contact.name}}"})
    reply = SavedReply.objects.get(organization=tenant.org)
    admin_client.post(f"/settings/saved-replies/{reply.pk}/toggle/")
    reply.refresh_from_db()
    assert not reply.is_active
    foreign = SavedReply.objects.create(organization=other_tenant.org, title="F", body="x")
    assert admin_client.get(f"/settings/saved-replies/{foreign.pk}/").status_code == 404


def test_business_hours_screen(tenant: Tenant, admin_client: Client) -> None:
    data = {"name": "Comercial", "timezone": "America/Sao_Paulo",
            "start_0": "08:00", "end_0": "18:00", "start_5": "09:00", "end_5": "13:00",
            "holidays_text": "2026-12-25\n\n2026-01-01\n"}
    assert admin_client.post("/settings/business-hours/new/", data).status_code == 302
    cal = BusinessCalendar.objects.get(organization=tenant.org)
    assert cal.hours == {"0": ["08:00", "18:00"], "5": ["09:00", "13:00"]}
    assert cal.holidays == ["2026-01-01", "2026-12-25"]
    edit = admin_client.get(f"/settings/business-hours/{cal.pk}/").content.decode()
    assert 'value="08:00"' in edit and "2026-12-25" in edit

    bad = admin_client.post(f"/settings/business-hours/{cal.pk}/", {
        **data, "start_0": "18:00", "end_0": "08:00", "holidays_text": "25/12"})
    page = bad.content.decode()
    assert "before the closing time" in page and "is not a date like" in page
    closed = admin_client.post("/settings/business-hours/new/",
                               {"name": "Nada", "timezone": "America/Sao_Paulo"})
    assert "at least one day, or choose 24x7" in closed.content.decode()
    admin_client.post("/settings/business-hours/new/",
                      {"name": "Sempre", "timezone": "UTC", "always_open": "on"})
    assert BusinessCalendar.objects.get(name="Sempre").always_open


def test_composer_gets_filled_saved_replies(tenant: Tenant, other_tenant: Tenant,
                                            admin_client: Client,
                                            django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from atende.contacts.models import Contact
    from atende.tickets.models import Ticket

    contact = Contact.objects.create(organization=tenant.org, name="Maria")
    ticket = Ticket.objects.create(organization=tenant.org, number=7, subject="x",
                                   contact=contact, origin="api")
    for n in range(5):
        SavedReply.objects.create(organization=tenant.org, title=f"R{n}",
                                  body="Oi {{contact.name}}, {{ticket.protocol}}")
    SavedReply.objects.create(organization=tenant.org, title="Off", body="x", is_active=False)
    SavedReply.objects.create(organization=other_tenant.org, title="Theirs", body="x")
    with django_assert_max_num_queries(6):
        data = admin_client.get(f"/tickets/{ticket.pk}/saved-replies/").json()
    assert [r["title"] for r in data["replies"]] == ["R0", "R1", "R2", "R3", "R4"]
    assert data["replies"][0]["text"] == "Oi Maria, TKT-000007"

    foreign = Ticket.objects.create(organization=other_tenant.org, number=7, subject="x",
                                    contact=Contact.objects.create(organization=other_tenant.org),
                                    origin="api")
    assert admin_client.get(f"/tickets/{foreign.pk}/saved-replies/").status_code == 404


def test_a_service_takes_business_hours_of_its_own_organisation_only(
        tenant: Tenant, other_tenant: Tenant, admin_client: Client) -> None:
    mine = BusinessCalendar.objects.create(organization=tenant.org, name="Equipe SP",
                                           always_open=True)
    theirs = BusinessCalendar.objects.create(organization=other_tenant.org, name="Globex",
                                             always_open=True)
    url = f"/settings/services/{tenant.service.pk}/"
    page = admin_client.get(url).content.decode()
    assert "Equipe SP" in page and "Globex" not in page
    refused = admin_client.post(url, {"name": "Suporte", "business_calendar": theirs.pk})
    assert refused.status_code == 200
    tenant.service.refresh_from_db()
    assert tenant.service.business_calendar_id is None
    assert admin_client.post(url, {"name": "Suporte", "business_calendar": mine.pk}
                             ).status_code == 302
    tenant.service.refresh_from_db()
    assert tenant.service.business_calendar_id == mine.pk


def test_the_calendar_screen_keeps_public_holidays_and_a_state(
        tenant: Tenant, admin_client: Client) -> None:
    response = admin_client.post("/settings/business-hours/new/", {
        "name": "Loja SP", "timezone": "America/Sao_Paulo", "always_open": "on",
        "public_holidays": "on", "holiday_region": "SP"})
    assert response.status_code == 302
    cal = BusinessCalendar.objects.get(organization=tenant.org, name="Loja SP")
    assert cal.public_holidays and cal.holiday_region == "SP"
    bad = admin_client.post(f"/settings/business-hours/{cal.pk}/", {
        "name": "Loja SP", "timezone": "America/Sao_Paulo", "always_open": "on",
        "holiday_region": "Atlantis"})
    assert bad.status_code == 200
    cal.refresh_from_db()
    assert cal.holiday_region == "SP"
