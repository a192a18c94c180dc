"""Write paths for contacts: find-or-create by identity. (Merging two contacts moves their
tickets too, so it lives above contacts: atende.tickets.services.contact_merge.)"""

from collections.abc import Collection, Sequence
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from atende.bulk_insert import bulk_insert
from atende.contacts.identities import normalize_identity
from atende.contacts.models import Contact, ContactIdentity
from atende.tenancy.models import Organization


def find_or_create_contact(
    organization: Organization, kind: str, raw_value: str, name: str = ""
) -> Contact:
    """The contact owning this identity, created if new. Safe under concurrent callers.

    Raises django ValidationError if the identity value is invalid.
    """
    value = normalize_identity(kind, raw_value)
    identity = (
        ContactIdentity.objects.for_org(organization)
        .select_related("contact")
        .filter(kind=kind, value=value)
        .first()
    )
    if identity is not None:
        return _resolve_merged(identity.contact)
    try:
        # The savepoint lets a losing concurrent insert fall back to the winner's row.
        with transaction.atomic():
            contact = Contact.objects.create(organization=organization, name=name[:200])
            ContactIdentity.objects.create(
                organization=organization, contact=contact, kind=kind, value=value
            )
            return contact
    except IntegrityError:
        identity = ContactIdentity.objects.for_org(organization).get(kind=kind, value=value)
        return _resolve_merged(identity.contact)


def contacts_by_identity(organization: Organization,
                         identities: Collection[tuple[str, str]]) -> dict[tuple[str, str], Contact]:
    """The contacts owning these normalised (kind, value) identities, in one query (merged
    contacts resolved to the one they were merged into). Missing identities are absent."""
    if not identities:
        return {}
    by_kind: dict[str, set[str]] = {}
    for kind, value in identities:
        by_kind.setdefault(kind, set()).add(value)
    match = Q()
    for kind, values in by_kind.items():
        match |= Q(kind=kind, value__in=sorted(values))
    found = (ContactIdentity.objects.for_org(organization).select_related("contact")
             .filter(match))
    return {(i.kind, i.value): _resolve_merged(i.contact) for i in found}


def create_contacts(organization: Organization, contacts: Sequence[Contact],
                    identities: Sequence[tuple[str, str, Contact]]) -> None:
    """Insert new contacts, then (kind, normalised value, contact) identities of new or
    stored contacts, in the order given (which ingest made them in), with two statements.
    No fallback here: a concurrent insert of the same identity raises IntegrityError, and
    the caller redoes its work one message at a time (`find_or_create_contact`)."""
    if contacts:
        bulk_insert(contacts)
    if identities:
        # Strictly increasing, as one by one: a contact's first identity (by creation) is
        # where replies go (`tickets.services.sending`), never a tie with an extra one.
        now = timezone.now()
        bulk_insert([
            ContactIdentity(organization=organization, contact=contact, kind=kind, value=value,
                            created_at=now + timedelta(microseconds=n))
            for n, (kind, value, contact) in enumerate(identities)])


def add_identity(contact: Contact, kind: str, raw_value: str) -> ContactIdentity:
    value = normalize_identity(kind, raw_value)
    identity, _created = ContactIdentity.objects.get_or_create(
        organization_id=contact.organization_id, kind=kind, value=value,
        defaults={"contact": contact},
    )
    return identity


def _resolve_merged(contact: Contact) -> Contact:
    seen = set()
    while contact.merged_into_id and contact.pk not in seen:
        seen.add(contact.pk)
        contact = Contact.objects.get(pk=contact.merged_into_id)
    return contact
