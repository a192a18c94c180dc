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
