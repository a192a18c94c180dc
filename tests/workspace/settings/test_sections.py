"""The simple settings sections: services, profiles, tags, finalization tags, custom fields,
organisation and agents — create, edit, (de)activate, tenant isolation, validation."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.tenancy.models import AccessProfile, Membership, Permission, Role, Service, User
from atende.tickets.models import CustomField, FinalizationTag, Tag
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_service_create_edit_deactivate(tenant: Tenant, admin_client: Client) -> None:
    response = admin_client.post("/settings/services/new/",
                                 {"name": "Financeiro", "description": "Boletos",
                                  "auto_assign": "on"})
    assert response.status_code == 302
    service = Service.objects.get(organization=tenant.org, name="Financeiro")
    assert service.auto_assign is True

    admin_client.post(f"/settings/services/{service.pk}/", {"name": "Cobrança"})
    service.refresh_from_db()
    assert (service.name, service.auto_assign) == ("Cobrança", False)

    admin_client.post(f"/settings/services/{service.pk}/toggle/")
    service.refresh_from_db()
    assert service.is_active is False
    page = admin_client.get("/settings/services/").content.decode()
    assert "Cobrança" in page and "Inactive" in page


def test_duplicate_name_is_a_form_error_not_a_crash(tenant: Tenant, admin_client: Client) -> None:
    response = admin_client.post("/settings/services/new/", {"name": tenant.service.name})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Service.objects.for_org(tenant.org).count() == 1


def test_toggle_needs_post(tenant: Tenant, admin_client: Client) -> None:
    assert admin_client.get(f"/settings/services/{tenant.service.pk}/toggle/").status_code == 405


def test_another_organisations_rows_are_404(tenant: Tenant, other_tenant: Tenant,
                                            admin_client: Client) -> None:
    foreign = other_tenant.service
    tag = Tag.objects.create(organization=other_tenant.org, name="vip")
    assert admin_client.get(f"/settings/services/{foreign.pk}/").status_code == 404
    assert admin_client.post(f"/settings/services/{foreign.pk}/toggle/").status_code == 404
    assert admin_client.post(f"/settings/tags/{tag.pk}/", {"name": "x"}).status_code == 404
    other_admin = Membership.objects.get(organization=other_tenant.org)
    assert admin_client.get(f"/settings/agents/{other_admin.pk}/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active
    assert "Globex" not in admin_client.get("/settings/services/").content.decode()
    assert other_tenant.admin.email not in admin_client.get("/settings/agents/").content.decode()


def test_empty_states_speak_to_a_person(tenant: Tenant, admin_client: Client) -> None:
    page = admin_client.get("/settings/finalization-tags/").content.decode()
    assert "No finalization tags yet" in page
    pt = admin_client.get("/settings/finalization-tags/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert "Nenhuma tabulação" in pt.content.decode()


def test_profiles_tags_finalization_and_custom_fields(tenant: Tenant,
                                                      admin_client: Client) -> None:
    admin_client.post("/settings/profiles/new/",
                      {"name": "Supervisão", "permissions": ["general_settings", "reports"]})
    profile = AccessProfile.objects.get(organization=tenant.org, name="Supervisão")
    assert profile.permissions == ["general_settings", "reports"]
    assert admin_client.post("/settings/profiles/new/",
                             {"name": "X", "permissions": ["root"]}).status_code == 200

    admin_client.post("/settings/tags/new/", {"name": "vip"})
    admin_client.post("/settings/finalization-tags/new/", {"name": "Resolvido"})
    assert Tag.objects.for_org(tenant.org).filter(name="vip").exists()
    fin = FinalizationTag.objects.get(organization=tenant.org)
    admin_client.post(f"/settings/finalization-tags/{fin.pk}/toggle/")
    fin.refresh_from_db()
    assert not fin.is_active

    bad = admin_client.post("/settings/custom-fields/new/",
                            {"label": "Plano", "key": "plano", "type": "choice"})
    assert bad.status_code == 200 and "Give at least one choice" in bad.content.decode()
    admin_client.post("/settings/custom-fields/new/",
                      {"label": "Plano", "key": "plano", "type": "choice",
                       "choices_text": "Básico\n Pro \n\n"})
    field = CustomField.objects.get(organization=tenant.org)
    assert field.choices == ["Básico", "Pro"]


def test_organisation_settings(tenant: Tenant, admin_client: Client) -> None:
    bad = admin_client.post("/settings/organisation/",
                            {"name": "Acme", "timezone": "Mars/Base", "language": "en"})
    assert "Unknown time zone" in bad.content.decode()
    admin_client.post("/settings/organisation/",
                      {"name": "Acme SA", "timezone": "America/Manaus", "language": "en"})
    tenant.org.refresh_from_db()
    assert (tenant.org.name, tenant.org.timezone, tenant.org.language) == (
        "Acme SA", "America/Manaus", "en")


def test_invite_edit_and_deactivate_an_agent(tenant: Tenant, other_tenant: Tenant,
                                             admin_client: Client) -> None:
    profile = AccessProfile.objects.create(organization=tenant.org, name="Básico")
    foreign_profile = AccessProfile.objects.create(organization=other_tenant.org, name="F")
    response = admin_client.post("/settings/agents/new/", {
        "email": "Nova@Example.com", "name": "Nova", "role": Role.AGENT,
        "access_profile": profile.pk, "services": [tenant.service.pk], "capacity": 3,
    })
    assert response.status_code == 302
    member = Membership.objects.get(organization=tenant.org, user__email="nova@example.com")
    assert member.capacity == 3 and member.access_profile == profile
    assert list(member.services.all()) == [tenant.service]
    assert not member.user.has_usable_password()

    again = admin_client.post("/settings/agents/new/", {
        "email": "nova@example.com", "role": Role.AGENT, "capacity": 3})
    assert "already an agent here" in again.content.decode()
    # Another organisation's profile or service is not a valid choice.
    edit = admin_client.post(f"/settings/agents/{member.pk}/", {
        "role": Role.AGENT, "access_profile": foreign_profile.pk, "capacity": 5,
        "services": [other_tenant.service.pk]})
    assert edit.status_code == 200
    member.refresh_from_db()
    assert member.access_profile == profile

    admin_client.post(f"/settings/agents/{member.pk}/toggle/")
    member.refresh_from_db()
    assert not member.is_active
    me = Membership.objects.get(organization=tenant.org, user=tenant.admin)
    admin_client.post(f"/settings/agents/{me.pk}/toggle/")
    me.refresh_from_db()
    assert me.is_active


def test_an_existing_user_joins_with_the_same_account(tenant: Tenant, other_tenant: Tenant,
                                                      admin_client: Client) -> None:
    admin_client.post("/settings/agents/new/", {
        "email": other_tenant.admin.email, "role": Role.SUPERVISOR, "capacity": 10})
    assert Membership.objects.filter(user=other_tenant.admin).count() == 2
    assert User.objects.filter(email=other_tenant.admin.email).count() == 1


def test_agent_list_query_count_is_constant(tenant: Tenant, admin_client: Client,
                                            django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(8):
        user = User.objects.create_user(f"a{n}@example.com", None)
        m = Membership.objects.create(organization=tenant.org, user=user)
        m.services.add(tenant.service)
    with django_assert_max_num_queries(8):
        assert admin_client.get("/settings/agents/").status_code == 200


def test_plain_agents_cannot_post_to_settings(tenant: Tenant) -> None:
    user = User.objects.create_user("plain@example.com", "pw-long-enough-1")
    Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT)
    client = Client()
    client.force_login(user)
    response = client.post("/settings/services/new/", {"name": "Hack"})
    assert response.status_code == 403
    assert not Service.objects.filter(name="Hack").exists()
    assert Permission.GENERAL_SETTINGS  # the permission that would open it
