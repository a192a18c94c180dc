"""Merging two contacts: the identities and the tickets of one move to the other. Here rather
than in contacts, which sits below tickets and does not import it."""

from django.db import transaction

from atende.contacts.models import Contact, ContactIdentity
from atende.tickets.models import Ticket


@transaction.atomic
def merge_contacts(target: Contact, source: Contact) -> Contact:
    """Move `source`'s identities and tickets to `target`; `source` remains as a pointer.

    Both contacts must belong to the same organisation.
    """
    if target.organization_id != source.organization_id:
        raise ValueError("contacts belong to different organisations")
    if target.pk == source.pk:
        return target
    ContactIdentity.objects.for_org(target.organization_id).filter(contact=source).update(
        contact=target
    )
    Ticket.objects.for_org(target.organization_id).filter(contact=source).update(contact=target)
    if not target.name and source.name:
        target.name = source.name
        target.save(update_fields=["name", "updated_at"])
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    return target
