"""Presence that expires: every workspace page beats; an online agent whose pages stopped
beating (browser closed) is set offline by a periodic job, and new tickets wait for others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from atende.contacts.models import Contact
from atende.jobs import expire_absent_agents as expire_job
from atende.tenancy.access import SESSION_ORG_KEY
from atende.tenancy.models import Membership, Presence, Role, Service, User
from atende.tickets.services.actor import Actor
from atende.tickets.services.assignment import expire_absent_agents
from atende.tickets.services.create import open_ticket
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def _membership(tenant: Tenant) -> Membership:
    return Membership.objects.get(organization=tenant.org, user=tenant.admin)


def _seen(member: Membership, ago: timedelta | None, presence: str = Presence.ONLINE) -> None:
    seen = None if ago is None else timezone.now() - ago
    Membership.objects.filter(pk=member.pk).update(presence=presence, last_seen_at=seen)


def test_every_workspace_page_carries_the_heartbeat(admin_client: Client) -> None:
    page = admin_client.get("/").content.decode()
    assert 'data-heartbeat-url="/heartbeat/"' in page


def test_the_heartbeat_records_the_agent_at_most_every_20_seconds(
        admin_client: Client, tenant: Tenant) -> None:
    member = _membership(tenant)
    _seen(member, timedelta(minutes=2))

    response = admin_client.post("/heartbeat/")
    assert response.status_code == 200
    assert response.json() == {"presence": "online"}
    first = _membership(tenant).last_seen_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)

    # A second tab beating right after writes nothing.
    admin_client.post("/heartbeat/")
    assert _membership(tenant).last_seen_at == first

    _seen(member, timedelta(seconds=21))
    admin_client.post("/heartbeat/")
    assert timezone.now() - _membership(tenant).last_seen_at < timedelta(seconds=5)


def test_a_recent_heartbeat_costs_no_write(
        admin_client: Client, tenant: Tenant,
        django_assert_max_num_queries: Callable[..., Any]) -> None:
    admin_client.post("/heartbeat/")
    with django_assert_max_num_queries(3) as captured:  # session, user, membership
        admin_client.post("/heartbeat/")
    assert not any(q["sql"].lstrip().upper().startswith("UPDATE")
                   for q in captured.captured_queries)


def test_the_heartbeat_needs_a_signed_in_agent_and_post(
        admin_client: Client, tenant: Tenant) -> None:
    assert admin_client.get("/heartbeat/").status_code == 405
    anonymous = Client().post("/heartbeat/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert _membership(tenant).last_seen_at is None


def test_the_heartbeat_touches_only_the_organisation_of_the_session(
        tenant: Tenant, other_tenant: Tenant) -> None:
    """An agent in two organisations: the beat is for the one they are working in."""
    Membership.objects.create(organization=other_tenant.org, user=tenant.admin, role=Role.AGENT)
    client = Client()
    client.force_login(tenant.admin)
    session = client.session
    session[SESSION_ORG_KEY] = other_tenant.org.pk
    session.save()

    client.post("/heartbeat/")
    assert Membership.objects.get(organization=other_tenant.org,
                                  user=tenant.admin).last_seen_at is not None
    assert _membership(tenant).last_seen_at is None


def test_the_job_sets_offline_only_online_agents_gone_for_the_timeout(
        tenant: Tenant, other_tenant: Tenant, settings: Any) -> None:
    assert settings.PRESENCE_TIMEOUT_MINUTES == 3

    def agent(org_tenant: Tenant, name: str, ago: timedelta | None,
              presence: str = Presence.ONLINE) -> Membership:
        user = User.objects.create_user(f"{name}@{org_tenant.org.slug}.test", None)
        member = Membership.objects.create(organization=org_tenant.org, user=user)
        _seen(member, ago, presence)
        return member

    gone = agent(tenant, "gone", timedelta(minutes=4))
    here = agent(tenant, "here", timedelta(minutes=1))
    away = agent(tenant, "away", timedelta(hours=2), Presence.AWAY)
    never = agent(tenant, "never", None)
    elsewhere = agent(other_tenant, "elsewhere", timedelta(minutes=10))

    expire_job.call_local()

    def presence(member: Membership) -> str:
        member.refresh_from_db()
        return member.presence

    assert presence(gone) == Presence.OFFLINE
    assert presence(never) == Presence.OFFLINE
    assert presence(elsewhere) == Presence.OFFLINE
    assert presence(here) == Presence.ONLINE
    assert presence(away) == Presence.AWAY
    assert expire_absent_agents() == 0  # nothing left to expire

    # The timeout is a setting.
    settings.PRESENCE_TIMEOUT_MINUTES = 10
    _seen(gone, timedelta(minutes=4))
    assert expire_absent_agents() == 0
    assert presence(gone) == Presence.ONLINE


def test_an_expired_agent_no_longer_receives_tickets(
        tenant: Tenant, admin_client: Client,
        django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    Service.objects.filter(pk=tenant.service.pk).update(auto_assign=True)
    tenant.service.refresh_from_db()
    member = _membership(tenant)
    member.services.add(tenant.service)
    _seen(member, timedelta(minutes=5))

    expire_absent_agents()
    # The page the agent left open elsewhere learns it is offline now.
    assert admin_client.post("/heartbeat/").json() == {"presence": "offline"}

    contact = Contact.objects.create(organization=tenant.org, name="Maria")
    with django_capture_on_commit_callbacks(execute=True):
        ticket, _msg = open_ticket(organization=tenant.org, contact=contact, subject="Pedido",
                                   actor=Actor(label="tests"), origin="api",
                                   service=tenant.service)
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
