""""See every ticket" (CORE-10): an agent without it sees the tickets assigned to them and
every ticket of their services, on every surface; the rest is a 404 or simply absent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from atende.automation.models import SavedReply
from atende.realtime import views as stream_views
from atende.realtime.models import Event
from atende.tenancy.models import AccessProfile, Membership, Permission, Service, User
from atende.tickets.event_visibility import StreamVisibility
from atende.tickets.models import Direction, FinalizationTag, Message, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.replies import NewAttachment, post_message

pytestmark = pytest.mark.django_db


def protocols(response: Any) -> set[str]:
    return set(re.findall(r'class="protocol" href="/tickets/\d+/">(TKT-\d+)<',
                          response.content.decode()))


def counts(response: Any) -> dict[str, int]:
    return {v: int(n) for v, n in re.findall(r'data-count="(\w+)">(\d+)<',
                                             response.content.decode())}


@dataclass
class Scene:
    carla: User
    client: Client
    membership: Membership
    mine_elsewhere: Ticket  # assigned to Carla, in a service she is not in
    team_colleague: Ticket  # her service, assigned to the admin
    team_unassigned: Ticket  # her service, nobody yet
    other_service: Ticket  # another service, unassigned
    no_service: Ticket  # not routed at all
    other_assigned: Ticket  # another service, assigned to the admin

    @property
    def visible(self) -> set[Ticket]:
        return {self.mine_elsewhere, self.team_colleague, self.team_unassigned}

    @property
    def hidden(self) -> set[Ticket]:
        return {self.other_service, self.no_service, self.other_assigned}


@pytest.fixture
def scene(tenant: Any, make_agent: Any, make_ticket: Any) -> Scene:
    billing = Service.objects.create(organization=tenant.org, name="Billing")
    carla, client = make_agent(tenant.org, "carla@example.com", name="Carla")
    membership = carla.memberships.get()
    membership.services.add(tenant.service)
    admin = Actor(user=tenant.admin)

    def ticket(subject: str, service: Service | None, assignee: User | None) -> Ticket:
        t = make_ticket(tenant.org, subject, f"text of {subject}", service=service,
                        email="same@example.com")
        if assignee is not None:
            update_ticket(t, admin, assignee=assignee)
        return t

    return Scene(
        carla, client, membership,
        mine_elsewhere=ticket("Mine elsewhere", billing, carla),
        team_colleague=ticket("Team colleague", tenant.service, tenant.admin),
        team_unassigned=ticket("Team unassigned", tenant.service, None),
        other_service=ticket("Other service", billing, None),
        no_service=ticket("No service", None, None),
        other_assigned=ticket("Other assigned", billing, tenant.admin),
    )


def test_queue_views_counts_and_search_hold_only_visible_tickets(scene: Scene) -> None:
    page = scene.client.get("/?view=open")
    assert protocols(page) == {t.protocol for t in scene.visible}
    assert counts(page) == {"mine": 1, "unassigned": 1, "open": 3, "pending": 0,
                            "resolved": 0}
    assert protocols(scene.client.get("/?view=unassigned")) == {scene.team_unassigned.protocol}
    # Search by subject, message text and protocol never reaches a hidden ticket.
    assert protocols(scene.client.get("/", {"q": "Other service"})) == set()
    assert protocols(scene.client.get("/", {"q": "text of No service"})) == set()
    assert protocols(scene.client.get("/", {"q": scene.other_assigned.protocol})) == set()
    assert protocols(scene.client.get("/", {"q": "text of Team"})) == {
        scene.team_colleague.protocol, scene.team_unassigned.protocol}


def test_a_profile_with_see_every_ticket_sees_them_all(scene: Scene, tenant: Any) -> None:
    profile = AccessProfile.objects.create(organization=tenant.org, name="Supervisão",
                                           permissions=[Permission.VIEW_ALL_TICKETS])
    scene.membership.access_profile = profile
    scene.membership.save()
    assert protocols(scene.client.get("/")) == {
        t.protocol for t in scene.visible | scene.hidden}
    assert scene.client.get(f"/tickets/{scene.no_service.pk}/").status_code == 200


def test_hidden_tickets_are_404_on_the_screen_and_every_action(
        scene: Scene, tenant: Any) -> None:
    for t in scene.visible:
        assert scene.client.get(f"/tickets/{t.pk}/").status_code == 200
    tag = FinalizationTag.objects.create(organization=tenant.org, name="Done")
    SavedReply.objects.create(organization=tenant.org, title="Hi", body="Hello")
    c = scene.client
    for t in scene.hidden:
        assert c.get(f"/tickets/{t.pk}/").status_code == 404
        assert c.get(f"/tickets/{t.pk}/live/").status_code == 404
        assert c.post(f"/tickets/{t.pk}/presence/").status_code == 404
        assert c.get(f"/tickets/{t.pk}/saved-replies/").status_code == 404
        assert c.get(f"/tickets/{t.pk}/whatsapp/").status_code == 404
        assert c.post(f"/tickets/{t.pk}/reply/", {"text": "hi"}).status_code == 404
        assert c.post(f"/tickets/{t.pk}/change/", {"status": "closed"}).status_code == 404
        assert c.post(f"/tickets/{t.pk}/finalize/",
                      {"finalization_tag": tag.pk}).status_code == 404
    assert not Message.objects.filter(ticket__in=scene.hidden,
                                      direction=Direction.OUTBOUND).exists()
    assert not Ticket.objects.filter(pk__in=[t.pk for t in scene.hidden],
                                     status=Status.CLOSED).exists()
    assert c.get(f"/tickets/{scene.team_unassigned.pk}/saved-replies/").status_code == 200


def test_attachments_follow_their_tickets_visibility(scene: Scene, tenant: Any) -> None:
    admin = Actor(user=tenant.admin)
    hidden = post_message(scene.other_service, admin, text="f",
                          attachments=[NewAttachment("a.txt", "text/plain", b"secret")])
    shown = post_message(scene.team_unassigned, admin, text="f",
                         attachments=[NewAttachment("b.txt", "text/plain", b"fine")])
    assert scene.client.get(f"/attachments/{hidden.attachments.get().pk}/").status_code == 404
    response = scene.client.get(f"/attachments/{shown.attachments.get().pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"fine"  # type: ignore[attr-defined]


def test_the_contacts_earlier_tickets_list_only_visible_ones(scene: Scene) -> None:
    page = scene.client.get(f"/tickets/{scene.team_unassigned.pk}/").content.decode()
    assert scene.team_colleague.protocol in page and scene.mine_elsewhere.protocol in page
    for t in scene.hidden:
        assert t.protocol not in page


def test_transferring_a_ticket_out_of_reach_goes_back_to_the_queue(
        scene: Scene, tenant: Any) -> None:
    t = scene.team_unassigned
    billing = Service.objects.get(organization=tenant.org, name="Billing")
    response = scene.client.post(f"/tickets/{t.pk}/change/", {
        "service": billing.pk, "initial_service": tenant.service.pk})
    assert response.status_code == 302 and response["Location"] == "/"
    t.refresh_from_db()
    assert t.service == billing
    assert scene.client.get(f"/tickets/{t.pk}/").status_code == 404


@pytest.mark.parametrize("rows", [2, 20])
def test_a_restricted_queue_runs_a_constant_number_of_queries(
        rows: int, tenant: Any, make_agent: Any, make_ticket: Any,
        django_assert_max_num_queries: Any) -> None:
    carla, client = make_agent(tenant.org, "carla@example.com")
    carla.memberships.get().services.add(tenant.service)
    for n in range(rows):
        make_ticket(tenant.org, f"row {n}", tags=["a"], service=tenant.service)
    with django_assert_max_num_queries(10):
        response = client.get("/")
    assert len(protocols(response)) == rows
    with django_assert_max_num_queries(17):
        assert client.get(f"/tickets/{Ticket.objects.first().pk}/").status_code == 200


class Stream:
    """A restricted agent's stream fed with the outbox as it grows, as the live one is."""

    def __init__(self, membership: Membership) -> None:
        self.visibility = StreamVisibility(membership)
        self.last = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.passed: list[Event] = []

    def read(self) -> None:
        events = list(Event.objects.filter(pk__gt=self.last).order_by("pk"))

        async def run() -> None:
            for event in events:
                result = await self.visibility(event)
                if result is not None:
                    self.passed.append(result)

        # async_to_sync: the lookups run on this thread, inside the test's transaction.
        async_to_sync(run)()
        if events:
            self.last = events[-1].pk


def test_the_live_stream_carries_no_data_of_hidden_tickets(scene: Scene, tenant: Any) -> None:
    stream = Stream(scene.membership)
    admin = Actor(user=tenant.admin)
    post_message(scene.other_service, admin, text="hidden answer")
    stream.read()
    post_message(scene.team_colleague, admin, text="team answer")
    stream.read()
    update_ticket(scene.team_colleague, admin, service=scene.other_service.service)
    stream.read()
    post_message(scene.team_colleague, admin, text="after the transfer")
    stream.read()
    passed = stream.passed
    texts = [e.payload.get("text") for e in passed if e.type == "message.created"]
    assert texts == ["team answer"]
    assert any(e.type == "ticket.updated" and e.payload.get("title") == "Team colleague"
               for e in passed)
    for e in passed:
        assert e.payload.get("id") != scene.other_service.pk
        assert e.payload.get("ticket_id") != scene.other_service.pk
    # The transfer arrives as the bare id, so the row can leave an open queue.
    stripped = [e for e in passed if e.payload.get("hidden")]
    assert stripped and all(e.payload == {"id": scene.team_colleague.pk, "hidden": True}
                            for e in stripped)
    assert "after the transfer" not in str([e.payload for e in passed])


def test_only_restricted_agents_streams_are_filtered(scene: Scene, tenant: Any) -> None:
    request = RequestFactory().get("/realtime/stream")
    request.session = SessionStore()
    request.user = scene.carla
    assert isinstance(stream_views._open_stream(request)[2], StreamVisibility)  # type: ignore[index]
    request.user = tenant.admin
    assert stream_views._open_stream(request)[2] is None  # type: ignore[index]
