"""REST endpoints for contacts (`/api/v1/contacts`). Beside tickets because a merge moves
tickets (tickets.services.contact_merge); contacts itself sits below tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from atende.api_errors import ApiError, ErrorOut
from atende.contacts import listing
from atende.contacts.changes import Editor, company_named, update_contact
from atende.contacts.models import Company, Contact
from atende.tenancy.api_auth import org_key
from atende.tenancy.idempotency import run_once
from atende.tenancy.models import Permission
from atende.tickets.services.contact_merge import merge_contacts

router = Router(tags=["contacts"])
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   409: ErrorOut, 429: ErrorOut}
KindIn = Literal["email", "phone", "whatsapp", "instagram", "telegram", "cpf", "external"]


class IdentityIn(Schema):
    kind: KindIn
    value: str = Field(min_length=1, max_length=320)


class IdentityOut(Schema):
    id: int
    kind: str
    value: str


class CompanyOut(Schema):
    id: int
    name: str
    domain: str


class ContactDetailOut(Schema):
    id: int
    name: str
    notes: str
    company: CompanyOut | None
    identities: list[IdentityOut]
    created_at: datetime
    updated_at: datetime


class ContactPage(Schema):
    items: list[ContactDetailOut]
    next_cursor: str | None


class ContactCreateIn(Schema):
    name: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=20_000)
    company: str = Field(default="", max_length=200, description="A company name; created "
                         "in the organisation if new.")
    identities: list[IdentityIn] = Field(default_factory=list, max_length=50)


class ContactUpdateIn(Schema):
    name: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=20_000)
    company: str | None = Field(default=None, max_length=200, description="\"\" removes it.")
    add_identities: list[IdentityIn] = Field(default_factory=list, max_length=50)
    remove_identity_ids: list[int] = Field(default_factory=list, max_length=50)


class MergeIn(Schema):
    source_id: int = Field(description="The contact merged into this one (it stays as a "
                           "pointer; its identities, tickets and notes move here).")


class ContactListQuery(Schema):
    q: str | None = Field(default=None, max_length=200, description="Name, e-mail, phone, "
                          "CPF, Instagram/WhatsApp/Telegram id.")
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)


def contact_out(contact: Contact) -> dict[str, Any]:
    company: Company | None = contact.company
    return {
        "id": contact.pk, "name": contact.name, "notes": contact.notes,
        "company": ({"id": company.pk, "name": company.name, "domain": company.domain}
                    if company else None),
        "identities": [{"id": i.pk, "kind": i.kind, "value": i.value}
                       for i in sorted(contact.identities.all(),
                                       key=lambda i: (i.created_at, i.pk))],
        "created_at": contact.created_at, "updated_at": contact.updated_at,
    }


def _editor(request: HttpRequest) -> Editor:
    return Editor(label=f"api-key:{request.auth.name}")  # type: ignore[attr-defined]


def _contact(org_id: int, contact_id: int) -> Contact:
    return listing.contact_for(org_id, contact_id)


@router.get("/contacts", response={200: ContactPage, **ERRORS},
            summary="List or search contacts")
def list_contacts(request: HttpRequest, q: Query[ContactListQuery]) -> dict[str, Any]:
    key = org_key(request)
    qs, _terms = listing.search(key.organization_id, q.q or "")
    try:
        rows, next_before = listing.page(qs, before=q.cursor, limit=q.limit)
    except ValueError:
        raise ApiError(400, "invalid", _("Invalid cursor."), "cursor") from None
    return {"items": [contact_out(c) for c in rows],
            "next_cursor": str(next_before) if next_before else None}


@router.post("/contacts", response={201: ContactDetailOut, **ERRORS}, summary="Create a contact")
def create_contact(request: HttpRequest, payload: ContactCreateIn) -> Status[Any]:
    """Send an `Idempotency-Key` header to make retries safe. An identity another contact
    already has is a 409."""
    key = org_key(request)
    org_id = key.organization_id

    @transaction.atomic
    def action() -> tuple[int, Any]:
        contact = Contact.objects.create(organization_id=org_id)
        update_contact(contact, _editor(request), name=payload.name, notes=payload.notes,
                       company=company_named(org_id, payload.company),
                       add=[(i.kind, i.value) for i in payload.identities])
        return 201, contact_out(_contact(org_id, contact.pk))

    status, body = run_once(org_id, request.headers.get("Idempotency-Key"), request.body, action)
    return Status(status, body)


@router.get("/contacts/{contact_id}", response={200: ContactDetailOut, **ERRORS},
            summary="Get a contact (a merged one answers with the contact it went into)")
def get_contact(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    key = org_key(request)
    return contact_out(_contact(key.organization_id, contact_id))


@router.patch("/contacts/{contact_id}", response={200: ContactDetailOut, **ERRORS},
              summary="Update name, notes, company or identities")
def patch_contact(request: HttpRequest, contact_id: int,
                  payload: ContactUpdateIn) -> dict[str, Any]:
    key = org_key(request)
    org_id = key.organization_id
    contact = _contact(org_id, contact_id)
    company: Company | bool | None = False
    if payload.company is not None:
        company = company_named(org_id, payload.company)
    update_contact(contact, _editor(request), name=payload.name, notes=payload.notes,
                   company=company, add=[(i.kind, i.value) for i in payload.add_identities],
                   remove=payload.remove_identity_ids)
    return contact_out(_contact(org_id, contact.pk))


@router.post("/contacts/{contact_id}/merge", response={200: ContactDetailOut, **ERRORS},
             summary="Merge another contact into this one")
def merge_contact(request: HttpRequest, contact_id: int, payload: MergeIn) -> dict[str, Any]:
    """The source's identities, tickets and notes move to this contact; the source answers
    as this contact from then on. Merging a contact into itself is a 400; a source already
    merged is a 409. A merge moves tickets, so a key's issuer must see every ticket."""
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    org_id = key.organization_id
    target = _contact(org_id, contact_id)
    try:
        source = Contact.objects.for_org(org_id).get(pk=payload.source_id)
    except Contact.DoesNotExist:
        raise ApiError(404, "not_found", _("Not found."), "source_id") from None
    merge_contacts(target, source, _editor(request))
    return contact_out(_contact(org_id, target.pk))
