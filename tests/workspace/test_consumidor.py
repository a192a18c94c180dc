"""The complaint's panel beside its ticket and the complaints page: the header, the CPF
masked without the permission, the answers waiting for the API's hours, the closed composer,
the ranking figures; nothing of another organisation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.consumidor_gov.models import Complaint
from atende.connectors.consumidor_gov.receive import sync_channel
from atende.tenancy.models import AccessProfile, Membership, Permission, Role, User
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import post_message
from tests.conftest import Tenant
from tests.connectors.consumidor_gov.conftest import cg, cg_channel, connect  # noqa: F401
from tests.fakes.consumidor_gov import FakeConsumidorGov, brasilia

pytestmark = pytest.mark.django_db


def agent_client(tenant: Tenant, email: str, permissions: list[str]) -> Client:
    user = User.objects.create_user(email, None)
    profile = AccessProfile.objects.create(organization=tenant.org, name=email,
                                           permissions=permissions)
    Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT,
                              access_profile=profile)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_panel_shows_the_header_and_masks_the_cpf_without_the_permission(
        tenant: Tenant, cg: FakeConsumidorGov, cg_channel: Channel) -> None:  # noqa: F811
    protocol = cg.new_complaint(cpf="98765432100", area="Cartões")
    sync_channel(cg_channel)
    complaint = Complaint.objects.get(protocol=protocol)
    url = f"/tickets/{complaint.ticket_id}/consumidor/"
    masked = agent_client(tenant, "a@x.test", [Permission.VIEW_ALL_TICKETS]).get(url)
    assert masked.status_code == 200
    page = masked.content.decode()
    assert protocol in page and "Maria Souza" in page and "Cartões" in page
    assert "***.654.***-**" in page and "98765432100" not in page and "987.654" not in page
    assert "sla-ok" in page  # the platform's deadline as a clock
    full = agent_client(tenant, "b@x.test", [Permission.VIEW_ALL_TICKETS,
                                             Permission.PERSONAL_DATA]).get(url)
    assert "987.654.321-00" in full.content.decode()
    # The ticket screen loads the panel.
    ticket_page = agent_client(tenant, "c@x.test", [Permission.VIEW_ALL_TICKETS]).get(
        f"/tickets/{complaint.ticket_id}/").content.decode()
    assert url in ticket_page


def test_a_waiting_answer_says_when_it_goes_and_the_evaluation_closes_the_composer(
        tenant: Tenant, cg: FakeConsumidorGov, cg_channel: Channel,  # noqa: F811
        admin_client: Client, django_capture_on_commit_callbacks: Any) -> None:
    protocol = cg.new_complaint()
    sync_channel(cg_channel)
    ticket = Complaint.objects.get(protocol=protocol).ticket
    assert ticket is not None
    cg.set_time(brasilia(2026, 12, 8, 15, 0))
    with django_capture_on_commit_callbacks(execute=True):
        post_message(ticket, Actor(user=tenant.admin), text="Vamos estornar.")
    panel = admin_client.get(f"/tickets/{ticket.pk}/consumidor/").content.decode()
    assert "One answer is waiting for the API's hours." in panel and "17:00" in panel
    screen = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Será enviado às 17:00" in screen  # written in the organisation's language

    cg.set_time(brasilia(2026, 12, 8, 17, 5))
    sync_channel(cg_channel)
    cg.consumer_evaluates(protocol, resolved=True, score=5, comment="Ótimo")
    sync_channel(cg_channel)
    screen = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="composer-closed"' in screen and "nothing more can be sent" in screen
    refused = admin_client.post(f"/tickets/{ticket.pk}/reply/",
                                {"text": "Mais algo?", "mode": "reply", "confirm": "1"})
    assert "nothing more can be sent" in refused.content.decode()
    assert "score 5 of 5" in admin_client.get(
        f"/tickets/{ticket.pk}/consumidor/").content.decode()


def test_the_complaints_page_gives_the_ranking_figures_of_the_organisation_only(
        tenant: Tenant, other_tenant: Tenant, cg: FakeConsumidorGov,  # noqa: F811
        cg_channel: Channel, admin_client: Client,  # noqa: F811
        django_capture_on_commit_callbacks: Any) -> None:
    late = cg.new_complaint(days=3)
    early = cg.new_complaint(days=1)
    answered = cg.new_complaint()
    good, bad = cg.new_complaint(), cg.new_complaint()
    sync_channel(cg_channel)
    for protocol in (answered, good, bad):
        ticket = Complaint.objects.get(channel=cg_channel, protocol=protocol).ticket
        assert ticket is not None
        with django_capture_on_commit_callbacks(execute=True):
            post_message(ticket, Actor(user=tenant.admin), text="Resposta")
    cg.consumer_evaluates(good, resolved=True, score=5)
    cg.consumer_evaluates(bad, resolved=False, score=2)
    sync_channel(cg_channel)
    other = connect(other_tenant.org, other_tenant.service, cg)
    sync_channel(other)  # the other organisation's copies count only there

    page = admin_client.get("/complaints/").content.decode()
    assert '<dd id="cg-open">2</dd>' in page
    assert '<dd id="cg-answered">3</dd>' in page
    assert '<dd id="cg-evaluated">2</dd>' in page
    assert '<dd id="cg-rate">50.0%</dd>' in page
    assert '<dd id="cg-score">3.5</dd>' in page
    assert page.index(early) < page.index(late)  # open ones by deadline
    # Another organisation's agent cannot open this organisation's complaint panel.
    theirs = Client(HTTP_ACCEPT_LANGUAGE="en")
    theirs.force_login(other_tenant.admin)
    mine = Complaint.objects.get(channel=cg_channel, protocol=late)
    assert theirs.get(f"/tickets/{mine.ticket_id}/consumidor/").status_code == 404
