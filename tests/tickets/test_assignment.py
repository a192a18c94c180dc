"""Automatic assignment (CORE-15): round robin among online agents of a service, within
capacity; offline agents' tickets wait; coming online picks them up; tenant isolation;
concurrent assignment on PostgreSQL never exceeds capacity."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from atende.contacts.models import Contact
from atende.tenancy.models import Membership, Presence, Role, Service, User
from atende.tickets.models import Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.assignment import assign_next, set_presence
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.create import open_ticket
from tests.conftest import Tenant

API = Actor(label="tests")


def _agent(tenant: Tenant, name: str, *, presence: str = Presence.ONLINE, capacity: int = 10,
           service: Service | None = None) -> Membership:
    user = User.objects.create_user(f"{name}@{tenant.org.slug}.test", None, name=name)
    member = Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT,
                                       presence=presence, capacity=capacity)
    member.services.add(service or tenant.service)
    return member


def _open(tenant: Tenant, capture: Callable[..., Any], service: Service | None = None) -> Ticket:
    contact = Contact.objects.create(organization=tenant.org, name="Maria")
    with capture(execute=True):
        ticket, _msg = open_ticket(organization=tenant.org, contact=contact, subject="Pedido",
                                   actor=API, origin="api", service=service or tenant.service)
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def auto(tenant: Tenant) -> Tenant:
    Service.objects.filter(pk=tenant.service.pk).update(auto_assign=True)
    tenant.service.refresh_from_db()
    return tenant


@pytest.mark.django_db
def test_round_robin_among_online_agents(auto: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    ana, bia, caio = (_agent(auto, n) for n in ("ana", "bia", "caio"))
    _agent(auto, "otto", presence=Presence.OFFLINE)
    _agent(auto, "alice", presence=Presence.AWAY)
    assignees = [_open(auto, django_capture_on_commit_callbacks).assignee_id for _ in range(6)]
    order = [ana.user_id, bia.user_id, caio.user_id]
    assert assignees == order + order


@pytest.mark.django_db
def test_capacity_is_respected_and_full_agents_make_tickets_wait(
        auto: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    ana = _agent(auto, "ana", capacity=1)
    bia = _agent(auto, "bia", capacity=2)
    tickets = [_open(auto, django_capture_on_commit_callbacks) for _ in range(4)]
    assert Counter(t.assignee_id for t in tickets) == {ana.user_id: 1, bia.user_id: 2, None: 1}
    # A resolved ticket no longer counts against capacity.
    first_of_ana = next(t for t in tickets if t.assignee_id == ana.user_id)
    update_ticket(first_of_ana, API, status=Status.RESOLVED)
    assert assign_next(tickets[3].pk) == ana


@pytest.mark.django_db
def test_offline_agents_tickets_wait_until_they_come_online(
        auto: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    ana = _agent(auto, "ana", presence=Presence.OFFLINE, capacity=2)
    waiting = [_open(auto, django_capture_on_commit_callbacks) for _ in range(3)]
    assert all(t.assignee_id is None for t in waiting)

    with django_capture_on_commit_callbacks(execute=True):
        set_presence(ana, Presence.ONLINE)
    assigned = Ticket.objects.filter(assignee=ana.user).order_by("id")
    # Oldest first, up to capacity; the third keeps waiting.
    assert [t.pk for t in assigned] == [waiting[0].pk, waiting[1].pk]
    assert Ticket.objects.get(pk=waiting[2].pk).assignee_id is None


@pytest.mark.django_db
def test_no_automatic_assignment_without_the_service_setting(
        tenant: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    _agent(tenant, "ana")
    assert _open(tenant, django_capture_on_commit_callbacks).assignee_id is None


@pytest.mark.django_db
def test_manual_assignment_is_always_possible(auto: Tenant,
                                              django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    _agent(auto, "ana")
    otto = _agent(auto, "otto", presence=Presence.OFFLINE, capacity=0)
    ticket = _open(auto, django_capture_on_commit_callbacks)
    update_ticket(ticket, API, assignee=otto.user)
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == otto.user_id
    # An assigned ticket is never taken away by the automatic assignment.
    assert assign_next(ticket.pk) is None


@pytest.mark.django_db
def test_other_organisations_agents_are_never_chosen(
        auto: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    stranger = _agent(other_tenant, "stranger", service=other_tenant.service)
    # Even a membership wrongly linked to this tenant's service is not a candidate.
    stranger.services.add(auto.service)
    assert _open(auto, django_capture_on_commit_callbacks).assignee_id is None


@pytest.mark.django_db
def test_presence_endpoint(auto: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    ana = _agent(auto, "ana", presence=Presence.OFFLINE)
    ticket = _open(auto, django_capture_on_commit_callbacks)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(ana.user)
    assert client.get("/presence/").status_code == 405
    bad = client.post("/presence/", {"presence": "invisible"})
    assert bad.status_code == 400 and "online, away or offline" in bad.json()["error"]
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post("/presence/", {"presence": "online"})
    assert ok.json() == {"presence": "online"}
    ana.refresh_from_db()
    assert ana.presence == Presence.ONLINE and ana.last_seen_at is not None
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == ana.user_id
    assert Client().post("/presence/", {"presence": "online"}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignment_never_exceeds_capacity(auto: Tenant) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    agents = [_agent(auto, f"agent{n}", capacity=2) for n in range(3)]
    contact = Contact.objects.create(organization=auto.org, name="Maria")
    tickets = [
        Ticket.objects.create(organization=auto.org, number=1000 + n, subject="x",
                              contact=contact, service=auto.service, origin="api")
        for n in range(12)
    ]
    barrier = threading.Barrier(len(tickets))
    errors: list[BaseException] = []

    def work(ticket_id: int) -> None:
        try:
            barrier.wait()
            assign_next(ticket_id)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(t.pk,)) for t in tickets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    load = Counter(Ticket.objects.filter(assignee__isnull=False)
                   .values_list("assignee_id", flat=True))
    assert load == {a.user_id: 2 for a in agents}


@pytest.mark.django_db
def test_the_periodic_sweep_assigns_when_capacity_frees(
        auto: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from atende.tickets.services.assignment import sweep_waiting

    ana = _agent(auto, "ana", capacity=1)
    first, second = (_open(auto, django_capture_on_commit_callbacks) for _ in range(2))
    assert (first.assignee_id, second.assignee_id) == (ana.user_id, None)
    assert sweep_waiting() == 0
    update_ticket(first, API, status=Status.RESOLVED)
    assert sweep_waiting() == 1
    assert Ticket.objects.get(pk=second.pk).assignee_id == ana.user_id
