"""Reading contacts: search and pages, always scoped to one organisation."""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from atende.contacts.identities import normalize_cpf, normalize_email, normalize_phone
from atende.contacts.models import Contact, ContactIdentity, IdentityKind
from atende.ids import parse_id
from atende.tenancy.models import Organization

CPF_SHAPE = re.compile(r"\d{3}\.\d{3}\.\d{3}-\d{2}")


@dataclass
class SearchTerms:
    """What a search box text may mean: a name, and normalised identity values by kind.
    `problem` says why an identity-shaped text matched nothing (an invalid CPF)."""

    text: str
    identities: list[tuple[str, str]] = field(default_factory=list)
    problem: str = ""


def _phone_spellings(e164: str) -> list[str]:
    """A Brazilian mobile with and without its ninth digit: WhatsApp reports older
    accounts without it, and a number typed by an agent may have it or not."""
    spellings = [e164]
    national = e164[3:] if e164.startswith("+55") else ""
    if len(national) == 11 and national[2] == "9":
        spellings.append(f"+55{national[:2]}{national[3:]}")
    elif len(national) == 10 and national[2] in "6789":
        spellings.append(f"+55{national[:2]}9{national[2:]}")
    return spellings


def search_terms(raw: str) -> SearchTerms:
    text = raw.strip()[:200]
    terms = SearchTerms(text)
    if not text:
        return terms
    if "@" in text and " " not in text:
        with suppress(ValidationError):
            terms.identities.append((IdentityKind.EMAIL, normalize_email(text)))
    digits = re.sub(r"\D", "", text)
    only_number_chars = re.fullmatch(r"[\d\s().+\-]+", text) is not None
    if only_number_chars and len(digits) == 11 and not text.startswith("+"):
        try:
            terms.identities.append((IdentityKind.CPF, normalize_cpf(digits)))
        except ValidationError:
            if CPF_SHAPE.fullmatch(text):  # written as a CPF: say why nothing matches
                terms.problem = _("This is not a valid CPF.")
    if only_number_chars and len(digits) >= 8 and not CPF_SHAPE.fullmatch(text):
        try:
            for spelling in _phone_spellings(normalize_phone(text)):
                terms.identities += [(IdentityKind.PHONE, spelling),
                                     (IdentityKind.WHATSAPP, spelling)]
        except ValidationError:
            pass
    handle = text.lstrip("@")
    if handle and " " not in handle:
        # Instagram, Telegram and external ids are stored as the channel gave them.
        terms.identities += [(IdentityKind.INSTAGRAM, handle), (IdentityKind.TELEGRAM, handle),
                             (IdentityKind.EXTERNAL, handle)]
    return terms


def live_contacts(organization: Organization | int) -> QuerySet[Contact]:
    """The organisation's contacts, without those merged into another."""
    return Contact.objects.for_org(organization).filter(merged_into__isnull=True)


def search(organization: Organization | int, raw: str) -> tuple[QuerySet[Contact], SearchTerms]:
    """Contacts whose name (or company's name) contains the text, or with an identity the
    text spells (e-mail, phone or WhatsApp number in any usual writing, CPF with valid check
    digits, Instagram or Telegram id)."""
    terms = search_terms(raw)
    qs = live_contacts(organization)
    if not terms.text:
        return qs, terms
    match = Q()
    for kind, value in terms.identities:
        match |= Q(kind=kind, value=value)
    if " " not in terms.text and ("@" in terms.text or "." in terms.text):
        # Part of an address, e.g. a domain: every contact of that company.
        match |= Q(kind=IdentityKind.EMAIL, value__icontains=terms.text.lower())
    by_name = Q(name__icontains=terms.text) | Q(company__name__icontains=terms.text)
    if match:
        owners = ContactIdentity.objects.for_org(organization).filter(match).values("contact_id")
        return qs.filter(by_name | Q(pk__in=owners)), terms
    return qs.filter(by_name), terms


def page(qs: QuerySet[Contact], *, before: str | None,
         limit: int) -> tuple[list[Contact], int | None]:
    """One page, newest first, keyset on id (`before` is the last id of the previous page):
    the same queries whatever the page. Returns the rows and the next `before`, if any."""
    if before:
        last = parse_id(before)
        if last is None:
            raise ValueError(before)
        qs = qs.filter(pk__lt=last)
    rows = list(qs.select_related("company").prefetch_related("identities")
                .order_by("-id")[: limit + 1])
    next_before = rows[limit - 1].pk if len(rows) > limit else None
    return rows[:limit], next_before


def contact_for(organization: Organization | int, contact_id: int) -> Contact:
    """The contact, or the one it was merged into; Contact.DoesNotExist in another
    organisation."""
    contact = Contact.objects.for_org(organization).select_related("company").get(pk=contact_id)
    seen: set[int] = set()
    while contact.merged_into_id and contact.pk not in seen:
        seen.add(contact.pk)
        contact = Contact.objects.for_org(organization).select_related("company").get(
            pk=contact.merged_into_id)
    return contact
