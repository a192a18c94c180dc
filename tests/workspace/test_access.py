"""Who reaches the settings screens (CORE-10)."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.tenancy.models import AccessProfile, Membership, Permission, Role, User

pytestmark = pytest.mark.django_db


def _agent(tenant, email: str, permissions: list[str]) -> Client:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(email, "a-long-password-1")
    profile = AccessProfile.objects.create(
        organization=tenant.org, name=f"profile {email}", permissions=permissions
    )
    Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT,
                              access_profile=profile)
    client = Client()
    client.force_login(user)
    return client


def test_settings_need_the_general_settings_profile(tenant) -> None:  # type: ignore[no-untyped-def]
    plain = _agent(tenant, "plain@example.com", [])
    response = plain.get("/settings/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "You cannot open this page" in response.content.decode()

    allowed = _agent(tenant, "boss@example.com", [Permission.GENERAL_SETTINGS])
    assert allowed.get("/settings/").status_code == 200


def test_anonymous_users_are_sent_to_sign_in() -> None:
    response = Client().get("/settings/")
    assert response.status_code == 302



def test_settings_link_only_for_the_general_settings_profile(tenant) -> None:  # type: ignore[no-untyped-def]
    plain = _agent(tenant, "plain2@example.com", [])
    assert 'href="/settings/"' not in plain.get("/").content.decode()
    allowed = _agent(tenant, "boss2@example.com", [Permission.GENERAL_SETTINGS])
    assert 'href="/settings/"' in allowed.get("/").content.decode()


def test_signed_in_user_without_an_active_membership_gets_403_not_a_redirect_loop(
    tenant,  # type: ignore[no-untyped-def]
) -> None:
    user = User.objects.create_user("gone@example.com", "a-long-password-1")
    Membership.objects.create(organization=tenant.org, user=user, is_active=False)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert 'action="/logout/"' in response.content.decode()


def test_each_settings_permission_shows_only_its_sections(tenant) -> None:  # type: ignore[no-untyped-def]
    manager = _agent(tenant, "manager@example.com", [Permission.MANAGE_AGENTS])
    assert 'href="/settings/"' in manager.get("/").content.decode()
    menu = manager.get("/settings/").content.decode()
    assert 'href="/settings/agents/"' in menu
    assert 'href="/settings/channels/"' not in menu
    assert 'href="/settings/api-keys/"' not in menu
    assert manager.get("/settings/agents/").status_code == 200
    assert manager.get("/settings/channels/").status_code == 403
    assert manager.get("/settings/api-keys/").status_code == 403

    keeper = _agent(tenant, "keys@example.com", [Permission.API_KEYS])
    menu = keeper.get("/settings/").content.decode()
    assert 'href="/settings/api-keys/"' in menu and 'href="/settings/agents/"' not in menu
    assert keeper.get("/settings/agents/").status_code == 403

    settings_only = _agent(tenant, "general@example.com", [Permission.GENERAL_SETTINGS])
    menu = settings_only.get("/settings/").content.decode()
    assert 'href="/settings/channels/"' in menu
    assert 'href="/settings/agents/"' not in menu and 'href="/settings/api-keys/"' not in menu


def test_the_refusal_page_is_translated(tenant) -> None:  # type: ignore[no-untyped-def]
    plain = _agent(tenant, "plain-pt@example.com", [])
    response = plain.get("/settings/agents/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 403
    assert "Você não pode abrir esta página" in response.content.decode()


def test_a_manager_who_is_not_an_administrator_grants_no_more_than_they_hold(tenant) -> None:  # type: ignore[no-untyped-def]
    manager = _agent(tenant, "mgr@example.com", [Permission.MANAGE_AGENTS])
    reporter = _agent(tenant, "mgr2@example.com", [Permission.MANAGE_AGENTS, Permission.REPORTS])
    powerful = AccessProfile.objects.create(organization=tenant.org, name="powerful",
                                            permissions=[Permission.GENERAL_SETTINGS])
    same = AccessProfile.objects.create(organization=tenant.org, name="same",
                                        permissions=[Permission.MANAGE_AGENTS])
    base = {"email": "new@example.com", "capacity": 5}

    as_admin = manager.post("/settings/agents/new/", {**base, "role": Role.ADMIN})
    assert as_admin.status_code == 200 and "role" in as_admin.context["form"].errors
    with_more = manager.post("/settings/agents/new/", {**base, "role": Role.AGENT,
                                                       "access_profile": powerful.pk})
    assert "access_profile" in with_more.context["form"].errors
    as_supervisor = manager.post("/settings/agents/new/", {**base, "role": Role.SUPERVISOR})
    assert "role" in as_supervisor.context["form"].errors  # the role holds "reports"
    assert not Membership.objects.filter(user__email="new@example.com").exists()

    ok = reporter.post("/settings/agents/new/", {**base, "role": Role.SUPERVISOR,
                                                "access_profile": same.pk})
    assert ok.status_code == 302
    ok_member = Membership.objects.get(user__email="new@example.com")
    assert ok_member.role == Role.SUPERVISOR

    admin = Membership.objects.get(organization=tenant.org, user=tenant.admin)
    listed = manager.get("/settings/agents/").content.decode()
    assert f'href="/settings/agents/{admin.pk}/"' not in listed
    assert f'href="/settings/agents/{ok_member.pk}/"' in listed
    assert manager.get(f"/settings/agents/{admin.pk}/").status_code == 403
    assert manager.post(f"/settings/agents/{admin.pk}/toggle/").status_code == 403
    admin.refresh_from_db()
    assert admin.is_active and admin.role == Role.ADMIN


def test_the_supervisor_role_holds_reports_and_nothing_of_the_settings(tenant) -> None:  # type: ignore[no-untyped-def]
    user = User.objects.create_user("sup@example.com", "a-long-password-1")
    supervisor = Membership.objects.create(organization=tenant.org, user=user,
                                           role=Role.SUPERVISOR)
    assert supervisor.permissions() == {Permission.REPORTS}
    client = Client()
    client.force_login(user)
    assert client.get("/settings/").status_code == 403
    assert 'href="/settings/"' not in client.get("/").content.decode()
