"""What an agent does on the ticket screen: answers, notes, collisions, changes,
finalization, reopening, presence."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from atende.channels.models import Channel
from atende.realtime.models import Event
from atende.tickets.models import (
    AuditEntry,
    DeliveryStatus,
    Direction,
    FinalizationTag,
    Message,
    Status,
)
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def seen_of(client: Client, ticket_id: int) -> str:
    page = client.get(f"/tickets/{ticket_id}/").content.decode()
    return page.split('name="seen" value="', 1)[1].split('"', 1)[0]


def test_answer_is_posted_and_the_composer_comes_back_empty(
    tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(tenant.org)
    response = admin_client.post(f"/tickets/{ticket.pk}/reply/", {
        "text": "Olá, resolvido!", "mode": "reply", "seen": seen_of(admin_client, ticket.pk)},
        **HX)
    body = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "ticket-changed"
    assert body.lstrip().startswith('<form id="composer"') and "Answer sent." in body
    message = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND)
    assert message.text == "Olá, resolvido!" and message.author_user == tenant.admin
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_answer_goes_to_the_origin_channel_or_another_one_chosen(
    tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    origin = Channel.objects.create(organization=tenant.org, kind="api", name="Site",
                                    is_active=False)
    other = Channel.objects.create(organization=tenant.org, kind="email", name="Mailbox",
                                   is_active=False)
    ticket = make_ticket(tenant.org, channel=origin)
    seen = seen_of(admin_client, ticket.pk)
    admin_client.post(f"/tickets/{ticket.pk}/reply/", {"text": "one", "seen": seen}, **HX)
    admin_client.post(f"/tickets/{ticket.pk}/reply/",
                      {"text": "two", "channel": other.pk, "confirm": "1"}, **HX)
    sent = dict(Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND)
                .values_list("text", "channel_id"))
    assert sent == {"one": origin.pk, "two": other.pk}


def test_internal_note_is_not_sent(tenant: Any, admin_client: Client,
                                   make_ticket: Any) -> None:
    ticket = make_ticket(tenant.org)
    admin_client.post(f"/tickets/{ticket.pk}/reply/", {
        "text": "psst", "mode": "note", "seen": seen_of(admin_client, ticket.pk)}, **HX)
    note = Message.objects.get(ticket=ticket, text="psst")
    assert note.direction == Direction.NOTE and note.delivery_status == DeliveryStatus.RECEIVED


def test_changed_ticket_warns_before_sending_then_send_anyway(
    tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(tenant.org)
    seen = seen_of(admin_client, ticket.pk)
    update_ticket(ticket, Actor(label="colleague"), priority="urgent")
    warned = admin_client.post(f"/tickets/{ticket.pk}/reply/",
                               {"text": "my draft", "seen": seen}, **HX).content.decode()
    assert "This ticket changed since you started writing" in warned
    assert "my draft" in warned and 'name="confirm"' in warned
    assert not Message.objects.filter(ticket=ticket, text="my draft").exists()
    admin_client.post(f"/tickets/{ticket.pk}/reply/",
                      {"text": "my draft", "seen": seen, "confirm": "1"}, **HX)
    assert Message.objects.filter(ticket=ticket, text="my draft").exists()


def test_empty_and_too_large_messages_get_clear_errors_and_keep_the_text(
    tenant: Any, admin_client: Client, make_ticket: Any, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024
    ticket = make_ticket(tenant.org)
    seen = seen_of(admin_client, ticket.pk)
    empty = admin_client.post(f"/tickets/{ticket.pk}/reply/", {"text": "  ", "seen": seen},
                              **HX).content.decode()
    assert "Write a message or attach a file." in empty
    big = SimpleUploadedFile("big.bin", b"x" * 2048, "application/octet-stream")
    response = admin_client.post(f"/tickets/{ticket.pk}/reply/",
                                 {"text": "keep me", "seen": seen, "attachments": big}, **HX)
    body = response.content.decode()
    assert "“big.bin” is larger than 0 MB" in body and "keep me" in body
    assert not Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND).exists()


def test_attachment_is_stored_with_the_answer(tenant: Any, admin_client: Client,
                                              make_ticket: Any) -> None:
    ticket = make_ticket(tenant.org)
    upload = SimpleUploadedFile("notes.txt", b"hello file", "text/plain")
    admin_client.post(f"/tickets/{ticket.pk}/reply/", {
        "text": "", "seen": seen_of(admin_client, ticket.pk), "attachments": upload}, **HX)
    attachment = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND) \
        .attachments.get()
    assert attachment.filename == "notes.txt" and attachment.size == 10


def test_change_status_priority_assignee_service_and_tags(
    tenant: Any, admin_client: Client, make_ticket: Any, make_agent: Any
) -> None:
    agent, _client = make_agent(tenant.org, "bia@example.com")
    ticket = make_ticket(tenant.org)
    response = admin_client.post(f"/tickets/{ticket.pk}/change/", {
        "status": "pending", "priority": "high", "assignee": agent.pk,
        "service": tenant.service.pk, "tags": "vip, refund"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id, ticket.service_id) == (
        "pending", "high", agent.pk, tenant.service.pk)
    assert sorted(t.name for t in ticket.tags.all()) == ["refund", "vip"]
    assert Event.objects.filter(type="ticket.status_changed",
                                payload__id=ticket.pk).exists()
    tracking = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "changed the assignee from — to" in tracking


def test_assignee_from_another_organisation_is_refused(
    tenant: Any, other_tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(tenant.org)
    admin_client.post(f"/tickets/{ticket.pk}/change/", {"assignee": other_tenant.admin.pk})
    ticket.refresh_from_db()
    assert ticket.assignee_id is None


def test_finalize_records_the_tag_in_tracking_and_leaves_the_open_views(
    tenant: Any, other_tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    tag = FinalizationTag.objects.create(organization=tenant.org, name="Resolvido no 1º contato")
    foreign_tag = FinalizationTag.objects.create(organization=other_tenant.org, name="X")
    ticket = make_ticket(tenant.org, "To finalize")
    update_ticket(ticket, Actor(label="t"), assignee=tenant.admin)
    refused = admin_client.post(f"/tickets/{ticket.pk}/finalize/",
                                {"finalization_tag": foreign_tag.pk})
    assert refused["Location"] == f"/tickets/{ticket.pk}/"
    response = admin_client.post(f"/tickets/{ticket.pk}/finalize/",
                                 {"finalization_tag": tag.pk})
    assert response["Location"] == "/"
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.finalization_tag == tag
    assert AuditEntry.objects.filter(ticket=ticket, action="finalized").count() == 1
    assert ticket.protocol not in admin_client.get("/?view=mine").content.decode()
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "finalized with “Resolvido no 1º contato”" in page
    admin_client.post(f"/tickets/{ticket.pk}/change/", {"reopen": "1"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert AuditEntry.objects.filter(ticket=ticket, action="reopened").exists()


def test_two_agents_on_one_ticket_see_each_other(
    tenant: Any, admin_client: Client, make_ticket: Any, make_agent: Any
) -> None:
    agent, bia = make_agent(tenant.org, "bia@example.com", name="Bia")
    agent.memberships.get().services.add(tenant.service)
    tenant.admin.name = "Admin Ana"
    tenant.admin.save()
    ticket = make_ticket(tenant.org, service=tenant.service)
    assert "also viewing" not in admin_client.post(
        f"/tickets/{ticket.pk}/presence/").content.decode()
    assert "Admin Ana is also viewing this ticket." in bia.post(
        f"/tickets/{ticket.pk}/presence/").content.decode()
    assert "Bia is also viewing" in admin_client.post(
        f"/tickets/{ticket.pk}/presence/").content.decode()
    bia.post(f"/tickets/{ticket.pk}/presence/", {"leave": "1"})
    assert "Bia" not in admin_client.post(f"/tickets/{ticket.pk}/presence/").content.decode()


def test_a_stale_actions_form_only_applies_what_the_agent_changed(
    tenant: Any, admin_client: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(tenant.org)
    drawn = {"initial_status": "new", "initial_priority": "normal", "initial_assignee": "",
             "initial_service": "", "initial_tags": "", "status": "new", "assignee": "",
             "service": "", "tags": ""}
    update_ticket(ticket, Actor(label="colleague"), status=Status.PENDING)
    admin_client.post(f"/tickets/{ticket.pk}/change/", {**drawn, "priority": "urgent"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.PENDING, "urgent")


def test_assign_to_me(tenant: Any, admin_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket(tenant.org)
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Assign to me" in page
    admin_client.post(f"/tickets/{ticket.pk}/change/",
                      {"initial_assignee": "", "assignee": tenant.admin.pk})
    ticket.refresh_from_db()
    assert ticket.assignee == tenant.admin
    assert "Assign to me" not in admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
