"""CSAT in the API (a ticket's survey, recording, the report list with its filters, tenant
isolation) and in the workspace (the channel's settings screen, the ticket's block)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from atende.channels.models import Channel
from atende.csat.answers import record_answer
from atende.csat.config import CsatSettings
from atende.csat.models import AnswerSource, Survey
from atende.tenancy.models import Membership, Role, User
from atende.tickets.models import Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import make_email_channel
from tests.csat.conftest import mailed_ticket, resolve

pytestmark = pytest.mark.django_db


def _resolved(channel: Channel, capture: Any, sender: str = "maria@example.com") -> Ticket:
    return resolve(mailed_ticket(channel, sender), capture)


def test_a_tickets_survey_through_the_api(
        tenant: Tenant, other_tenant: Tenant,
        django_capture_on_commit_callbacks: Any) -> None:
    ticket = _resolved(make_email_channel(tenant), django_capture_on_commit_callbacks)
    url = f"/api/v1/tickets/{ticket.pk}/csat"
    assert tenant.client.get(url).status_code == 404

    created = tenant.client.post(url, {"score": 5, "comment": "Ótimo"})
    assert created.status_code == 201
    body = tenant.client.get(url).json()
    assert (body["score"], body["comment"], body["answered_via"], body["channel_id"]) == (
        5, "Ótimo", "api", ticket.channel_id)
    assert tenant.client.post(url, {"score": 1}).status_code == 409
    assert tenant.client.post(url, {"score": 0}).status_code == 400
    # Another organisation's key finds nothing, reads nothing, records nothing.
    assert other_tenant.client.get(url).status_code == 404
    assert other_tenant.client.post(url, {"score": 1}).status_code == 404
    assert other_tenant.client.get("/api/v1/csat").json()["items"] == []


def test_the_report_list_filters_by_period_channel_agent_and_score(
        tenant: Tenant, django_capture_on_commit_callbacks: Any) -> None:
    mail, other = make_email_channel(tenant), make_email_channel(tenant)
    agent = User.objects.create_user("agent@example.com", "pw-not-used-123")
    Membership.objects.create(organization=tenant.org, user=agent, role=Role.AGENT)
    tickets = [_resolved(mail, django_capture_on_commit_callbacks, f"c{i}@example.com")
               for i in range(2)]
    tickets.append(_resolved(other, django_capture_on_commit_callbacks, "c9@example.com"))
    Ticket.objects.filter(pk=tickets[1].pk).update(assignee=agent)
    for ticket, score in zip(tickets, (5, 3, 1), strict=True):
        record_answer(tenant.org.pk, ticket.pk, score, via=AnswerSource.PORTAL)
    old = timezone.now() - timedelta(days=40)
    Survey.objects.filter(ticket=tickets[2]).update(answered_at=old)

    def ids(**params: Any) -> list[int]:
        response = tenant.client.get("/api/v1/csat", params)
        assert response.status_code == 200, response.content
        return [item["ticket_id"] for item in response.json()["items"]]

    assert ids() == [t.pk for t in reversed(tickets)]
    assert ids(channel_id=mail.pk) == [tickets[1].pk, tickets[0].pk]
    assert ids(agent_id=agent.pk) == [tickets[1].pk]
    assert ids(score=5) == [tickets[0].pk]
    since = (timezone.now() - timedelta(days=7)).isoformat()
    assert ids(since=since) == [tickets[1].pk, tickets[0].pk]
    assert ids(until=since) == [tickets[2].pk]
    first = tenant.client.get("/api/v1/csat", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_before_id"]
    rest = tenant.client.get("/api/v1/csat", {"limit": 2,
                                              "before_id": first["next_before_id"]}).json()
    assert [i["ticket_id"] for i in rest["items"]] == [tickets[0].pk]
    assert rest["next_before_id"] is None


def test_the_settings_screen_turns_the_survey_on_with_its_wording(
        tenant: Tenant, admin_client: Client) -> None:
    channel = make_email_channel(tenant)
    url = f"/settings/channels/{channel.pk}/csat/"
    page = admin_client.get(url)
    assert page.status_code == 200 and "Satisfaction survey of" in page.content.decode()
    response = admin_client.post(url, {"enabled": "on", "delay_minutes": "15",
                                       "text_pt_br": "Avalie o chamado {protocol}",
                                       "text_en": ""})
    assert response.status_code == 302
    channel.refresh_from_db()
    config = CsatSettings.of(channel)
    assert (config.enabled, config.delay_minutes) == (True, 15)
    assert config.wording("pt-br") == "Avalie o chamado {protocol}"
    assert config.wording("en").startswith("How would you rate")
    assert channel.settings["address"]  # the channel's own settings are kept
    bad = admin_client.post(url, {"enabled": "on", "delay_minutes": "-1"})
    assert bad.status_code == 200 and CsatSettings.of(channel).delay_minutes == 15


def test_another_organisations_channel_has_no_settings_screen_here(
        other_tenant: Tenant, admin_client: Client) -> None:
    channel = make_email_channel(other_tenant)
    assert admin_client.get(f"/settings/channels/{channel.pk}/csat/").status_code == 404


def test_the_ticket_screen_shows_the_answer(
        tenant: Tenant, admin_client: Client, django_capture_on_commit_callbacks: Any) -> None:
    ticket = _resolved(make_email_channel(tenant), django_capture_on_commit_callbacks)
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="csat"' not in page
    record_answer(tenant.org.pk, ticket.pk, 4, "Resolveu rápido", via=AnswerSource.LINK)
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="csat"' in page and "4 of 5" in page and "Resolveu rápido" in page
    assert "rated the service 4 of 5" in page  # the tracking tab
