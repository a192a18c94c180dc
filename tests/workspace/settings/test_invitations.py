"""Inviting someone who already has an account: the inviting organisation changes nothing of
it (name, password); the person accepts or declines, and edits their own name."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.tenancy.access import SESSION_ORG_KEY
from atende.tenancy.models import Membership, Role, User
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def bruna(other_tenant: Tenant) -> User:
    """An agent of the other organisation, with her own name and password."""
    user = User.objects.create_user("bruna@globex.test", "brunas-own-password-1", name="Bruna")
    Membership.objects.create(organization=other_tenant.org, user=user, role=Role.AGENT)
    return user


def as_user(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def invite(admin_client: Client, email: str, name: str = "") -> Membership:
    response = admin_client.post("/settings/agents/new/", {
        "email": email, "name": name, "role": Role.AGENT, "capacity": 10})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Membership.objects.get(user__email=email, invitation_pending=True)


def test_inviting_someone_from_another_organisation_leaves_their_account_alone(
    tenant: Tenant, other_tenant: Tenant, admin_client: Client, bruna: User
) -> None:
    password_hash = bruna.password
    invitation = invite(admin_client, bruna.email, name="Somebody Else")
    bruna.refresh_from_db()
    assert (bruna.name, bruna.password) == ("Bruna", password_hash)
    assert invitation.organization_id == tenant.org.pk and not invitation.is_active
    # Not an agent there until she accepts: she keeps working in her organisation only.
    client = as_user(bruna)
    client.post("/organization/", {"organization": tenant.org.pk})
    assert client.session.get(SESSION_ORG_KEY) != tenant.org.pk
    listed = admin_client.get("/settings/agents/").content.decode()
    assert "Invited" in listed and "Bruna" in listed


def test_the_inviting_organisation_cannot_rename_an_agent_it_shares(
    tenant: Tenant, admin_client: Client, bruna: User
) -> None:
    invitation = invite(admin_client, bruna.email)
    as_user(bruna).post("/invitations/", {"invitation": invitation.pk, "answer": "accept"})
    form = admin_client.get(f"/settings/agents/{invitation.pk}/").content.decode()
    assert 'name="name"' not in form
    admin_client.post(f"/settings/agents/{invitation.pk}/", {
        "name": "Renamed", "role": Role.SUPERVISOR, "capacity": 4})
    bruna.refresh_from_db()
    invitation.refresh_from_db()
    assert bruna.name == "Bruna" and invitation.role == Role.SUPERVISOR


def test_the_invited_person_accepts_and_works_there(
    tenant: Tenant, admin_client: Client, bruna: User
) -> None:
    invitation = invite(admin_client, bruna.email)
    client = as_user(bruna)
    assert "invited you" in client.get("/").content.decode()
    page = client.get("/invitations/").content.decode()
    assert tenant.org.name in page
    accepted = client.post("/invitations/", {"invitation": invitation.pk, "answer": "accept"})
    assert accepted.status_code == 302
    invitation.refresh_from_db()
    assert invitation.is_active and not invitation.invitation_pending
    assert client.session[SESSION_ORG_KEY] == tenant.org.pk
    assert "invited you" not in client.get("/").content.decode()


def test_declining_removes_the_invitation(tenant: Tenant, admin_client: Client,
                                          bruna: User) -> None:
    invitation = invite(admin_client, bruna.email)
    as_user(bruna).post("/invitations/", {"invitation": invitation.pk, "answer": "decline"})
    assert not Membership.objects.filter(pk=invitation.pk).exists()


def test_nobody_else_answers_an_invitation_and_the_organisation_cannot_force_it(
    tenant: Tenant, other_tenant: Tenant, admin_client: Client, bruna: User
) -> None:
    invitation = invite(admin_client, bruna.email)
    as_user(other_tenant.admin).post("/invitations/", {"invitation": invitation.pk,
                                                       "answer": "accept"})
    admin_client.post(f"/settings/agents/{invitation.pk}/toggle/")  # "Activate"
    invitation.refresh_from_db()
    assert invitation.invitation_pending and not invitation.is_active


def test_someone_only_invited_is_taken_to_the_invitation(tenant: Tenant,
                                                         admin_client: Client) -> None:
    loner = User.objects.create_user("loner@example.com", "a-long-password-1", name="Lone")
    invite(admin_client, loner.email, name="Not Lone")
    loner.refresh_from_db()
    assert loner.name == "Lone"
    response = as_user(loner).get("/")
    assert response.status_code == 302 and response["Location"] == "/invitations/"


def test_a_new_address_gets_an_account_named_by_the_inviter(tenant: Tenant,
                                                            admin_client: Client) -> None:
    admin_client.post("/settings/agents/new/", {
        "email": "fresh@example.com", "name": "Fresh", "role": Role.AGENT, "capacity": 10})
    member = Membership.objects.get(user__email="fresh@example.com")
    assert member.is_active and not member.invitation_pending and member.user.name == "Fresh"


def test_a_person_edits_their_own_name(bruna: User) -> None:
    client = as_user(bruna)
    assert "Your profile" in client.get("/profile/").content.decode()
    client.post("/profile/", {"name": "Bruna Lima", "language": "en"})
    bruna.refresh_from_db()
    assert (bruna.name, bruna.language) == ("Bruna Lima", "en")
