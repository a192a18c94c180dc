"""Turning an agent or a channel on and off from the settings: the services do it in one
transaction with an audit entry and an event; another organisation's rows are 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.channels.services import set_channel_active
from atende.connectors.api.channels import create_api_channel
from atende.errors import DomainError
from atende.realtime.models import Event
from atende.tenancy.models import Membership, Role, SettingsAuditEntry, User
from atende.tickets.services.agents import set_agent_active
from atende.webhooks.models import WebhookDelivery
from atende.webhooks.services import create_subscription
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def _agent(tenant: Tenant, email: str = "ana@acme.test") -> Membership:
    user = User.objects.create_user(email, "pw-not-used-123")
    return Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT)


def _admin(tenant: Tenant) -> Membership:
    return Membership.objects.get(organization=tenant.org, user=tenant.admin)


def test_agent_toggle_records_audit_and_emits_on_commit(
        tenant: Tenant, admin_client: Client,
        django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    agent = _agent(tenant)
    create_subscription(tenant.org.pk, "http://127.0.0.1:9/hook", ["agent.updated"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(f"/settings/agents/{agent.pk}/toggle/")
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.is_active is False
    entry = SettingsAuditEntry.objects.get(organization=tenant.org)
    assert (entry.action, entry.object_type, entry.object_id, entry.field, entry.before,
            entry.after, entry.actor_user_id) == (
        "deactivated", "agent", agent.pk, "is_active", True, False, tenant.admin.pk)
    event = Event.objects.get(organization=tenant.org, type="agent.updated")
    assert event.payload == {"id": agent.pk, "user_id": agent.user_id, "role": "agent",
                             "is_active": False, "changes": ["is_active"]}
    delivery = WebhookDelivery.objects.get(organization=tenant.org)
    assert delivery.event_type == "agent.updated"
    assert callbacks  # the broker's announcement and the delivery wait for the commit

    admin_client.post(f"/settings/agents/{agent.pk}/toggle/")
    agent.refresh_from_db()
    assert agent.is_active is True
    assert list(SettingsAuditEntry.objects.for_org(tenant.org).values_list("action", flat=True)) \
        == ["deactivated", "activated"]


def test_an_admin_cannot_deactivate_themselves(tenant: Tenant, admin_client: Client) -> None:
    me = _admin(tenant)
    page = admin_client.post(f"/settings/agents/{me.pk}/toggle/", follow=True)
    assert "You cannot deactivate yourself." in page.content.decode()
    me.refresh_from_db()
    assert me.is_active
    assert not SettingsAuditEntry.objects.exists()
    assert not Event.objects.filter(type="agent.updated").exists()
    with pytest.raises(DomainError):
        set_agent_active(me, False, actor=me)


def test_setting_the_state_it_has_records_nothing(tenant: Tenant) -> None:
    agent = _agent(tenant)
    set_agent_active(agent, True, actor=_admin(tenant))
    channel, _key, _secret = create_api_channel(tenant.org, name="Mine")
    set_channel_active(channel, True, actor=_admin(tenant))
    assert not SettingsAuditEntry.objects.exists()
    assert not Event.objects.filter(type__in=["agent.updated", "channel.updated"]).exists()


def test_channel_toggle_records_audit_and_emits(tenant: Tenant, admin_client: Client) -> None:
    channel, _key, _secret = create_api_channel(tenant.org, name="Mine")
    admin_client.post(f"/settings/channels/{channel.pk}/toggle/")
    channel.refresh_from_db()
    assert channel.is_active is False
    entry = SettingsAuditEntry.objects.get(organization=tenant.org)
    assert (entry.action, entry.object_type, entry.object_id, entry.actor_user_id) == (
        "deactivated", "channel", channel.pk, tenant.admin.pk)
    event = Event.objects.get(organization=tenant.org, type="channel.updated")
    assert event.payload == {"id": channel.pk, "kind": channel.kind, "name": "Mine",
                             "is_active": False, "changes": ["is_active"]}


def test_another_organisations_agent_or_channel_is_404(
        tenant: Tenant, other_tenant: Tenant, admin_client: Client) -> None:
    their_agent = _agent(other_tenant, "bia@globex.test")
    their_channel, _key, _secret = create_api_channel(other_tenant.org, name="Theirs")
    assert admin_client.post(f"/settings/agents/{their_agent.pk}/toggle/").status_code == 404
    assert admin_client.post(f"/settings/channels/{their_channel.pk}/toggle/").status_code == 404
    their_agent.refresh_from_db()
    assert their_agent.is_active
    assert Channel.objects.get(pk=their_channel.pk).is_active
    assert not SettingsAuditEntry.objects.exists()
    assert not Event.objects.filter(type__in=["agent.updated", "channel.updated"]).exists()
