from typing import Any

import pytest
from django.core.exceptions import ValidationError

from atende.contacts.identities import normalize_cpf, normalize_identity, normalize_phone
from atende.contacts.models import ContactIdentity
from atende.contacts.services import add_identity, find_or_create_contact
from atende.tickets.services.actor import Actor
from atende.tickets.services.contact_merge import merge_contacts
from atende.tickets.services.create import open_ticket


def test_phone_numbers_become_e164() -> None:
    assert normalize_phone("(11) 98765-4321") == "+5511987654321"
    assert normalize_phone("5511987654321") == "+5511987654321"
    assert normalize_phone("+1 415 555 2671") == "+14155552671"
    with pytest.raises(ValidationError):
        normalize_phone("12")


def test_cpf_is_checked() -> None:
    assert normalize_cpf("529.982.247-25") == "52998224725"
    for bad in ("529.982.247-26", "111.111.111-11", "123"):
        with pytest.raises(ValidationError):
            normalize_cpf(bad)


def test_email_is_lowercased_and_validated() -> None:
    assert normalize_identity("email", " Ana@Example.COM ") == "ana@example.com"
    with pytest.raises(ValidationError):
        normalize_identity("email", "ana@")


@pytest.mark.django_db
def test_identities_are_unique_per_tenant_not_globally(tenant: Any, other_tenant: Any) -> None:
    a = find_or_create_contact(tenant.org, "email", "ana@example.com", "Ana")
    b = find_or_create_contact(other_tenant.org, "email", "ana@example.com", "Ana")
    assert a.pk != b.pk
    assert find_or_create_contact(tenant.org, "email", "ANA@example.com").pk == a.pk


@pytest.mark.django_db
def test_merge_moves_identities_and_tickets(tenant: Any) -> None:
    by_mail = find_or_create_contact(tenant.org, "email", "ana@example.com", "Ana")
    by_phone = find_or_create_contact(tenant.org, "whatsapp", "5511987654321")
    ticket, _ = open_ticket(organization=tenant.org, contact=by_phone, subject="x",
                            actor=Actor(label="t"), origin="whatsapp")
    merge_contacts(by_mail, by_phone)
    ticket.refresh_from_db()
    assert ticket.contact_id == by_mail.pk
    assert set(ContactIdentity.objects.filter(contact=by_mail).values_list("kind", flat=True)) \
        == {"email", "whatsapp"}
    # The merged contact's identity now finds the surviving contact.
    assert find_or_create_contact(tenant.org, "whatsapp", "+55 11 98765-4321").pk == by_mail.pk
    add_identity(by_mail, "cpf", "529.982.247-25")
    assert by_mail.identities.count() == 3


@pytest.mark.django_db
def test_merge_refuses_cross_tenant(tenant: Any, other_tenant: Any) -> None:
    a = find_or_create_contact(tenant.org, "email", "a@example.com")
    b = find_or_create_contact(other_tenant.org, "email", "b@example.com")
    with pytest.raises(ValueError, match="different organisations"):
        merge_contacts(a, b)
