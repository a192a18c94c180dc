"""Merging two contacts: the identities and the tickets of one move to the other. Here rather
than in contacts, which sits below tickets and does not import it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from atende.contacts.changes import Editor, audit, contact_payload
from atende.contacts.models import Contact, ContactIdentity
from atende.errors import DomainError
from atende.events import emit
from atende.tickets.models import Ticket


@dataclass(frozen=True)
class MergePreview:
    """What a merge of `source` into `target` would move."""

    target: Contact
    source: Contact
    identities: list[ContactIdentity]
    ticket_count: int
    moves_notes: bool
    takes_name: bool
    takes_company: bool


def merge_preview(target: Contact, source: Contact) -> MergePreview:
    _check(target, source)
    return MergePreview(
        target=target, source=source,
        identities=list(ContactIdentity.objects.for_org(source.organization_id)
                        .filter(contact=source).order_by("created_at", "pk")),
        ticket_count=Ticket.objects.for_org(source.organization_id).filter(
            contact=source).count(),
        moves_notes=bool(source.notes.strip()),
        takes_name=not target.name and bool(source.name),
        takes_company=target.company_id is None and source.company_id is not None,
    )


def _check(target: Contact, source: Contact) -> None:
    if target.organization_id != source.organization_id:
        raise ValueError("contacts belong to different organisations")
    if target.pk == source.pk:
        raise DomainError(_("A contact cannot be merged into itself."), field="source_id")
    if source.merged_into_id or target.merged_into_id:
        raise DomainError(_("This contact was already merged into another."),
                          field="source_id", code="conflict")


@transaction.atomic
def merge_contacts(target: Contact, source: Contact, editor: Editor | None = None) -> Contact:
    """Move `source`'s identities, tickets and notes to `target`; `source` remains as a
    pointer (old references resolve to `target`). One audit entry on `target` says who
    merged what; `contact.merged` is sent on commit. Both contacts must belong to the same
    organisation; merging a contact into itself or an already merged one is a DomainError."""
    # Lock both rows in id order: two merges of the same pair cannot interleave.
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(
        pk__in=[target.pk, source.pk]).order_by("pk")}
    if len(locked) == 2:
        target, source = locked[target.pk], locked[source.pk]
    preview = merge_preview(target, source)
    org_id = target.organization_id
    ContactIdentity.objects.for_org(org_id).filter(contact=source).update(contact=target)
    ticket_ids = list(Ticket.objects.for_org(org_id).filter(contact=source)
                      .values_list("pk", flat=True))
    Ticket.objects.for_org(org_id).filter(pk__in=ticket_ids).update(contact=target)
    fields = []
    if preview.takes_name:
        target.name = source.name
        fields.append("name")
    if preview.takes_company:
        target.company_id = source.company_id
        fields.append("company")
    if preview.moves_notes:
        target.notes = "\n\n".join(n for n in (target.notes.strip(), source.notes.strip()) if n)
        fields.append("notes")
    if fields:
        target.save(update_fields=[*fields, "updated_at"])
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    audit(target, editor or Editor(label="system"), "merged", {
        "source_id": source.pk, "source_name": source.name,
        "identities": [f"{i.kind}:{i.value}" for i in preview.identities],
        "ticket_ids": ticket_ids, "notes": preview.moves_notes,
    })
    # A count, not ids: every agent's live stream carries contact events, and a restricted
    # agent must not learn of tickets outside their reach.
    emit(org_id, "contact.merged", {**contact_payload(target), "source_id": source.pk,
                                    "ticket_count": len(ticket_ids)})
    return target
