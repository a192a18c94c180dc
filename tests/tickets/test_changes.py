"""Finalization, delivery statuses and the audit trail of ticket changes."""

from typing import Any

import pytest

from atende.contacts.services import find_or_create_contact
from atende.tickets.errors import TicketError
from atende.tickets.models import AuditEntry, DeliveryStatus, FinalizationTag, Status
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import finalize, update_ticket
from atende.tickets.services.create import open_ticket
from atende.tickets.services.replies import post_message, update_delivery_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(tenant: Any) -> Any:
    contact = find_or_create_contact(tenant.org, "email", "c@example.com")
    ticket, _ = open_ticket(organization=tenant.org, contact=contact, subject="Ajuda",
                            actor=Actor(user=tenant.admin), origin="api")
    return ticket


def test_each_finalization_is_its_own_tracking_entry(tenant: Any, ticket: Any) -> None:
    done = FinalizationTag.objects.create(organization=tenant.org, name="Resolvido")
    actor = Actor(user=tenant.admin)
    finalize(ticket, actor, done)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.finalization_tag == done
    finalize(ticket, actor, done, resolve=False)
    entries = AuditEntry.objects.filter(ticket=ticket, action="finalized")
    assert entries.count() == 2
    assert all(e.actor_user_id == tenant.admin.pk for e in entries)


def test_another_tenants_finalization_tag_is_refused(ticket: Any, other_tenant: Any) -> None:
    foreign = FinalizationTag.objects.create(organization=other_tenant.org, name="x")
    with pytest.raises(TicketError):
        finalize(ticket, Actor(label="t"), foreign)


def test_delivery_status_only_moves_forward(tenant: Any, ticket: Any) -> None:
    message = post_message(ticket, Actor(user=tenant.admin), text="Olá")
    assert message.delivery_status == DeliveryStatus.SENT  # no channel: published via events
    assert update_delivery_status(message, DeliveryStatus.READ)
    assert not update_delivery_status(message, DeliveryStatus.DELIVERED)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.READ and message.read_at is not None
    assert update_delivery_status(message, DeliveryStatus.FAILED, reason="window closed")
    assert not update_delivery_status(message, DeliveryStatus.READ)
    message.refresh_from_db()
    assert message.failure_reason == "window closed"


def test_unchanged_update_writes_nothing(tenant: Any, ticket: Any) -> None:
    before = AuditEntry.objects.count()
    update_ticket(ticket, Actor(label="t"), priority=ticket.priority, status=ticket.status)
    assert AuditEntry.objects.count() == before
