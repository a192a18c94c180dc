"""Tickets through the portal: the form opens a ticket on the portal channel with a
protocol, the customer's history spans every channel, the timeline is public only, the
agent's answer is mailed, comments reopen within the period, and nothing crosses tenants."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from atende.channels.models import Channel, InboundEvent
from atende.connectors.portal.channels import create_portal_channel, settings_for
from atende.connectors.portal.models import Category
from atende.contacts.models import IdentityKind
from atende.contacts.services import find_or_create_contact
from atende.tickets.models import Attachment, Direction, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.create import open_ticket
from atende.tickets.services.replies import post_message
from atende.tickets.services.sending import send_queued_message
from tests.conftest import Tenant
from tests.connectors.portal.conftest import Customer, link_in, sign_up

pytestmark = pytest.mark.django_db


def _form(submission: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"submission": submission or str(uuid.uuid4()), "f_subject": "Impressora não liga",
            "f_category": "Hardware", "f_priority": "high",
            "f_description": "Desde ontem a impressora do 2º andar não liga.",
            "f_equipment": "Printer", "f_contact_phone": "+55 11 91234-5678", **extra}


def _open(customer: Customer, **extra: Any) -> Ticket:
    response = customer.client.post(f"{customer.base}new/", _form(**extra))
    assert response.status_code == 302, response.content.decode()
    number = int(response["Location"].split("/tickets/")[1].split("/")[0])
    return Ticket.objects.get(organization_id=customer.account.organization_id, number=number)


@pytest.fixture(autouse=True)
def _categories(tenant: Tenant) -> None:
    for position, name in enumerate(("Hardware", "Financeiro")):
        Category.objects.create(organization=tenant.org, name=name, position=position)


def test_the_form_opens_a_portal_ticket_with_its_fields_and_a_protocol(
        customer: Customer, portal: Channel) -> None:
    upload = SimpleUploadedFile("foto.png", b"\x89PNG fake image", content_type="image/png")
    ticket = _open(customer, f_attachments=upload)
    assert (ticket.origin, ticket.channel_id) == ("portal", portal.pk)
    assert (ticket.subject, ticket.category, ticket.priority) == (
        "Impressora não liga", "Hardware", "high")
    assert ticket.custom_fields == {"equipment": "Printer", "contact_phone": "+55 11 91234-5678"}
    assert ticket.contact_id == customer.account.contact_id
    first = ticket.messages.get()
    assert "Equipment: Printer" in first.text
    assert [a.filename for a in first.attachments.all()] == ["foto.png"]
    page = customer.client.get(f"{customer.base}tickets/{ticket.number}/?created=1")
    assert f"Its protocol number is {ticket.protocol}" in page.content.decode()


def test_the_same_form_sent_twice_is_one_ticket(customer: Customer) -> None:
    submission = str(uuid.uuid4())
    first, second = _open(customer, submission=submission), _open(customer, submission=submission)
    assert first.pk == second.pk
    assert Ticket.objects.filter(contact_id=customer.account.contact_id).count() == 1


def test_required_fields_and_unknown_options_are_refused(customer: Customer) -> None:
    response = customer.client.post(f"{customer.base}new/", _form(
        f_category="Not managed", f_description=""))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body and "Select a valid choice" in body
    assert not Ticket.objects.exists()


def test_the_layout_from_settings_drives_the_form(customer: Customer, tenant: Tenant) -> None:
    portal_settings = settings_for(tenant.org.pk)
    portal_settings.form_fields = [
        {"key": "description", "type": "textarea", "required": True},
        {"key": "subject", "type": "text", "required": True},
        {"key": "order", "type": "text", "required": True, "label": "Order number"},
    ]
    portal_settings.save()
    page = customer.client.get(f"{customer.base}new/").content.decode()
    assert page.index("f_description") < page.index("f_subject")
    assert "Order number" in page and "f_category" not in page
    ticket = _open(customer, f_order="A-77")
    assert ticket.custom_fields == {"order": "A-77"}


def test_history_spans_every_channel_and_the_timeline_is_public_only(
        customer: Customer, tenant: Tenant) -> None:
    contact = find_or_create_contact(tenant.org, IdentityKind.EMAIL, "carla@example.com")
    by_mail, _m = open_ticket(organization=tenant.org, contact=contact, subject="Pelo e-mail",
                              description="Mandei por e-mail", actor=Actor(label="t"),
                              origin="email")
    post_message(by_mail, Actor(user=tenant.admin), text="Segredo interno", internal=True)
    post_message(by_mail, Actor(user=tenant.admin), text="Resposta pública")
    home = customer.client.get(customer.base).content.decode()
    assert by_mail.protocol in home
    page = customer.client.get(f"{customer.base}tickets/{by_mail.number}/").content.decode()
    assert "Resposta pública" in page and "Segredo interno" not in page
    note = by_mail.messages.get(direction=Direction.NOTE)
    hidden = Attachment.objects.create(organization=tenant.org, message=note, filename="s.txt",
                                       file=SimpleUploadedFile("s.txt", b"x"), size=1, sha256="0")
    assert customer.client.get(f"{customer.base}files/{hidden.pk}/").status_code == 404


def test_an_agents_answer_is_mailed_and_shown(customer: Customer, tenant: Tenant,
                                             mailoutbox: Any) -> None:
    ticket = _open(customer)
    answer = post_message(ticket, Actor(user=tenant.admin), text="Já enviamos um técnico.")
    send_queued_message(answer.pk)
    answer.refresh_from_db()
    assert answer.delivery_status == "sent"
    mail = mailoutbox[-1]
    assert mail.to == ["carla@example.com"] and ticket.protocol in mail.subject
    path = link_in(mail.body, "/tickets/")
    assert "Já enviamos um técnico." in customer.client.get(path).content.decode()


def test_a_comment_adds_files_and_reopens_within_the_period_only(
        customer: Customer, tenant: Tenant) -> None:
    ticket = _open(customer)
    url = f"{customer.base}tickets/{ticket.number}/"
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.RESOLVED,
                                               resolved_at=timezone.now())
    upload = SimpleUploadedFile("log.txt", b"erro 42", content_type="text/plain")
    response = customer.client.post(url, {"submission": str(uuid.uuid4()),
                                          "text": "Voltou a falhar", "attachments": upload})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    comment = ticket.messages.order_by("-pk").first()
    assert comment is not None and comment.text == "Voltou a falhar"
    assert [a.filename for a in comment.attachments.all()] == ["log.txt"]

    long_ago = timezone.now() - timedelta(days=settings_for(tenant.org.pk).reopen_days + 1)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED, closed_at=long_ago)
    refused = customer.client.post(url, {"submission": str(uuid.uuid4()), "text": "E agora?"})
    assert refused.status_code == 409
    assert "This ticket is finished" in refused.content.decode()
    assert ticket.messages.count() == 2


def test_an_unreadable_submission_is_quarantined_not_lost(portal: Channel) -> None:
    from atende.channels.registry import get_connector

    event = InboundEvent.objects.create(organization_id=portal.organization_id, channel=portal,
                                        provider_id="portal:broken", payload={"text": "x"})
    get_connector("portal").process(portal, [event])
    event.refresh_from_db()
    assert event.status == "quarantined" and "not a portal submission" in event.error


def test_a_customer_of_one_organisation_reaches_nothing_of_another(
        customer: Customer, tenant: Tenant, other_tenant: Tenant, mailoutbox: Any) -> None:
    create_portal_channel(other_tenant.org, name="Portal B")
    mine = _open(customer)
    other = sign_up(other_tenant.org.slug, "bruno@example.com", mailoutbox, name="Bruno")
    _open(other)
    theirs = _open(other)  # number 2: the customer's own organisation has only number 1
    their_file = Attachment.objects.create(
        organization=other_tenant.org, message=theirs.messages.get(), filename="b.txt",
        file=SimpleUploadedFile("b.txt", b"b"), size=1, sha256="0")
    # By id or number on the customer's own portal: not found.
    assert customer.client.get(f"{customer.base}tickets/{theirs.number}/").status_code == 404
    assert customer.client.get(f"{customer.base}files/{their_file.pk}/").status_code == 404
    # The customer's cookie does not sign in on the other portal (another path, another org).
    stolen = Client(HTTP_ACCEPT_LANGUAGE="en")
    stolen.cookies["atende_portal"] = customer.client.cookies["atende_portal"].value
    assert stolen.get(f"{other.base}tickets/{theirs.number}/")["Location"].endswith("/signin/")
    # The number both organisations have: each customer sees their own ticket.
    page = customer.client.get(f"{customer.base}tickets/{mine.number}/").content.decode()
    assert mine.subject in page and str(other_tenant.org.name) not in page
