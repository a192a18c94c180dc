"""Editing a contact: name, notes, company and identities, each change audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from atende.contacts.identities import normalize_identity
from atende.contacts.models import Company, Contact, ContactAuditEntry, ContactIdentity
from atende.errors import DomainError
from atende.events import emit


@dataclass(frozen=True)
class Editor:
    """Who changes a contact: an agent (user id) or an API key / system (label)."""

    user_id: int | None = None
    label: str = ""


def contact_payload(contact: Contact) -> dict[str, object]:
    """A contact in events (`contact.updated`, `contact.merged`): enough to decide whether to
    fetch it (GET /api/v1/contacts/{id}), no identities."""
    return {"id": contact.pk, "name": contact.name, "company_id": contact.company_id}


def audit(contact: Contact, editor: Editor, action: str, details: dict) -> ContactAuditEntry:
    return ContactAuditEntry.objects.create(
        organization_id=contact.organization_id, contact=contact, actor_user_id=editor.user_id,
        actor_label=editor.label, action=action, details=details)


def company_named(organization_id: int, name: str) -> Company | None:
    """The organisation's company of this name (created if new); None for a blank name."""
    name = " ".join(name.split())[:200]
    if not name:
        return None
    existing = Company.objects.for_org(organization_id).filter(name__iexact=name).first()
    if existing is not None:
        return existing
    company, _created = Company.objects.get_or_create(organization_id=organization_id,
                                                      name=name)
    return company


def _check_identities(contact: Contact, identities: Iterable[tuple[str, str]]
                      ) -> list[tuple[str, str]]:
    """Normalised identities, refused (DomainError, field `identities`) when invalid or
    owned by another contact: taking one silently would be a merge nobody asked for."""
    result = []
    for kind, raw in identities:
        try:
            value = normalize_identity(kind, raw)
        except ValidationError as exc:
            raise DomainError(f"{raw}: {' '.join(exc.messages)}", field="identities") from None
        owner = (ContactIdentity.objects.for_org(contact.organization_id)
                 .filter(kind=kind, value=value).exclude(contact=contact)
                 .values_list("contact_id", flat=True).first())
        if owner is not None:
            raise DomainError(_("%(value)s already belongs to contact #%(id)s; merge the "
                                "two contacts instead.") % {"value": value, "id": owner},
                              field="identities", code="conflict")
        result.append((kind, value))
    return result


@transaction.atomic
def update_contact(contact: Contact, editor: Editor, *, name: str | None = None,
                   notes: str | None = None, company: Company | bool | None = False,
                   add: Iterable[tuple[str, str]] = (), remove: Iterable[int] = ()) -> Contact:
    """Change what is given (`company=False` leaves it as it is); one audit entry lists
    the fields and identities that changed, and `contact.updated` is sent on commit.
    Raises DomainError on an invalid or taken identity, and nothing is changed then."""
    changed: dict[str, object] = {}
    fields = []
    if name is not None and name.strip()[:200] != contact.name:
        changed["name"] = [contact.name, name.strip()[:200]]
        contact.name = name.strip()[:200]
        fields.append("name")
    if notes is not None and notes != contact.notes:
        changed["notes"] = True
        contact.notes = notes
        fields.append("notes")
    if company is not False and getattr(company, "pk", None) != contact.company_id:
        new_company = company if isinstance(company, Company) else None
        if new_company is not None and new_company.organization_id != contact.organization_id:
            raise DomainError(_("Unknown company."), field="company")
        changed["company"] = [str(contact.company) if contact.company else "",
                              str(new_company) if new_company else ""]
        contact.company = new_company
        fields.append("company")
    removed = list(ContactIdentity.objects.for_org(contact.organization_id)
                   .filter(contact=contact, pk__in=list(remove)))
    if removed:
        ContactIdentity.objects.filter(pk__in=[i.pk for i in removed]).delete()
        changed["identities_removed"] = [f"{i.kind}:{i.value}" for i in removed]
    added = _check_identities(contact, add)
    for kind, value in added:
        ContactIdentity.objects.get_or_create(
            organization_id=contact.organization_id, kind=kind, value=value,
            defaults={"contact": contact})
    if added:
        changed["identities_added"] = [f"{k}:{v}" for k, v in added]
    if fields:
        contact.save(update_fields=[*fields, "updated_at"])
    if changed:
        audit(contact, editor, "updated", changed)
        emit(contact.organization_id, "contact.updated",
             {**contact_payload(contact), "changes": sorted(changed)})
    return contact
