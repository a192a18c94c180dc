"""What a signed-in customer may read: the tickets of their contact from every channel,
each one's public timeline (inbound and outbound messages: never an internal note or a
system entry, never the ticket's internal fields) and those messages' files. Every read is
scoped by the customer's organisation and contact."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from atende.connectors.portal.models import CustomerAccount, PortalSettings
from atende.contacts.models import Contact
from atende.tickets.models import OPEN_STATUSES, Attachment, Direction, Message, Ticket

PUBLIC = (Direction.INBOUND, Direction.OUTBOUND)
LIST_SIZE = 100


def contact_id(account: CustomerAccount) -> int:
    """The account's contact, or the one it was merged into (merges move the tickets)."""
    current = account.contact
    for _hop in range(10):  # a merge chain is short; a loop must not hang the page
        if current.merged_into_id is None:
            break
        current = Contact.objects.for_org(account.organization_id).get(pk=current.merged_into_id)
    return current.pk


def tickets(account: CustomerAccount) -> QuerySet[Ticket]:
    """The newest tickets first (the `ticket_contact` index)."""
    return (Ticket.objects.for_org(account.organization_id)
            .filter(contact_id=contact_id(account))
            .select_related("channel").order_by("-created_at")[:LIST_SIZE])


def ticket(account: CustomerAccount, number: int) -> Ticket | None:
    return (Ticket.objects.for_org(account.organization_id)
            .filter(contact_id=contact_id(account), number=number).first())


def timeline(ticket: Ticket) -> QuerySet[Message]:
    return (Message.objects.for_org(ticket.organization_id)
            .filter(ticket=ticket, direction__in=PUBLIC)
            .select_related("author_user", "channel").prefetch_related("attachments")
            .order_by("created_at", "id"))


def attachment(account: CustomerAccount, attachment_id: int) -> Attachment | None:
    return (Attachment.objects.for_org(account.organization_id)
            .filter(pk=attachment_id, message__direction__in=PUBLIC,
                    message__ticket__contact_id=contact_id(account)).first())


def may_comment(ticket: Ticket, portal: PortalSettings) -> bool:
    """Open tickets always; a resolved or closed one within the reopen period."""
    if ticket.status in OPEN_STATUSES:
        return True
    finished = ticket.closed_at or ticket.resolved_at or ticket.updated_at
    return timezone.now() - finished <= timedelta(days=portal.reopen_days)
