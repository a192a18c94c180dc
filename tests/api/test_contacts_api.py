"""/api/v1/contacts: list, search, get, create, update and merge, in one organisation."""

from __future__ import annotations

from typing import Any

import pytest

from atende.channels.models import Channel, ChannelKind
from atende.contacts.models import Contact, ContactAuditEntry
from atende.realtime.models import Event
from atende.tenancy.api_keys import generate_api_key
from atende.tickets.models import Ticket
from atende.webhooks.models import WebhookDelivery
from atende.webhooks.services import create_subscription
from tests.conftest import ApiClient, Tenant

pytestmark = pytest.mark.django_db


def _create(api: ApiClient, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/contacts", body)
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_create_normalises_identities_and_sets_the_company(api: ApiClient) -> None:
    body = _create(api, name="Ana Souza", company="Acme Ltda", notes="VIP", identities=[
        {"kind": "email", "value": "Ana@Example.COM"},
        {"kind": "whatsapp", "value": "5511987654321"},
        {"kind": "cpf", "value": "529.982.247-25"}])
    assert body["name"] == "Ana Souza" and body["notes"] == "VIP"
    assert body["company"]["name"] == "Acme Ltda"
    assert [(i["kind"], i["value"]) for i in body["identities"]] == [
        ("email", "ana@example.com"), ("whatsapp", "+5511987654321"), ("cpf", "52998224725")]
    assert api.get(f"/api/v1/contacts/{body['id']}").json()["name"] == "Ana Souza"


def test_invalid_or_taken_identity_is_refused_and_nothing_is_created(api: ApiClient) -> None:
    bad = api.post("/api/v1/contacts", {"name": "X", "identities": [
        {"kind": "cpf", "value": "529.982.247-26"}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "identities"
    _create(api, name="Ana", identities=[{"kind": "email", "value": "ana@example.com"}])
    taken = api.post("/api/v1/contacts", {"name": "Outra", "identities": [
        {"kind": "email", "value": "ANA@example.com"}]})
    assert taken.status_code == 409
    assert Contact.objects.filter(name__in=["X", "Outra"]).count() == 0


@pytest.mark.parametrize("query", ["ana souza", "ana@example.com", "example.com",
                                   "(11) 98765-4321", "+55 11 8765-4321", "529.982.247-25",
                                   "52998224725", "@ana.insta"])
def test_search_finds_by_name_and_every_identity(api: ApiClient, query: str) -> None:
    ana = _create(api, name="Ana Souza", identities=[
        {"kind": "email", "value": "ana@example.com"},
        {"kind": "whatsapp", "value": "5511987654321"},
        {"kind": "cpf", "value": "52998224725"},
        {"kind": "instagram", "value": "ana.insta"}])
    _create(api, name="Bruno", identities=[{"kind": "email", "value": "bruno@other.test"}])
    found = api.get("/api/v1/contacts", {"q": query}).json()["items"]
    assert [c["id"] for c in found] == [ana["id"]]


def test_a_cpf_with_wrong_check_digits_finds_nothing(api: ApiClient) -> None:
    _create(api, name="Ana", identities=[{"kind": "cpf", "value": "52998224725"}])
    assert api.get("/api/v1/contacts", {"q": "529.982.247-26"}).json()["items"] == []


def test_pages_follow_the_cursor_without_repeats(api: ApiClient) -> None:
    ids = [_create(api, name=f"C{n}")["id"] for n in range(5)]
    first = api.get("/api/v1/contacts", {"limit": 2}).json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    seen = [c["id"] for c in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("/api/v1/contacts", {"limit": 2, "cursor": cursor}).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    bad = api.get("/api/v1/contacts", {"cursor": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


def test_patch_changes_fields_and_identities_with_an_audit_entry(api: ApiClient) -> None:
    ana = _create(api, name="Ana", identities=[{"kind": "email", "value": "a@example.com"}])
    response = api.patch(f"/api/v1/contacts/{ana['id']}", {
        "name": "Ana S.", "company": "Globo", "add_identities": [
            {"kind": "phone", "value": "(11) 3333-4444"}],
        "remove_identity_ids": [ana["identities"][0]["id"]]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Ana S." and body["company"]["name"] == "Globo"
    assert [i["value"] for i in body["identities"]] == ["+551133334444"]
    entry = ContactAuditEntry.objects.get(contact_id=ana["id"], action="updated",
                                          details__has_key="company")
    assert entry.actor_label == "api-key:tests"
    assert api.patch(f"/api/v1/contacts/{ana['id']}", {"company": ""}).json()["company"] is None


def test_merge_moves_identities_tickets_and_notes(api: ApiClient, tenant: Tenant) -> None:
    ticket = api.post("/api/v1/tickets", {"title": "Oi", "requester_email": "b@example.com"})
    source_id = Ticket.objects.get(pk=ticket.json()["id"]).contact_id
    api.patch(f"/api/v1/contacts/{source_id}", {"notes": "prefers mornings"})
    target = _create(api, name="Ana", identities=[{"kind": "email", "value": "a@example.com"}])
    response = api.post(f"/api/v1/contacts/{target['id']}/merge", {"source_id": source_id})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {i["value"] for i in body["identities"]} == {"a@example.com", "b@example.com"}
    assert "prefers mornings" in body["notes"]
    assert Ticket.objects.get(pk=ticket.json()["id"]).contact_id == target["id"]
    # The merged contact answers as the one it went into.
    assert api.get(f"/api/v1/contacts/{source_id}").json()["id"] == target["id"]
    assert source_id not in [c["id"] for c in api.get("/api/v1/contacts").json()["items"]]
    entry = ContactAuditEntry.objects.get(contact_id=target["id"], action="merged")
    assert entry.details["source_id"] == source_id
    assert entry.details["ticket_ids"] == [ticket.json()["id"]]
    again = api.post(f"/api/v1/contacts/{target['id']}/merge", {"source_id": source_id})
    assert again.status_code == 409
    itself = api.post(f"/api/v1/contacts/{target['id']}/merge", {"source_id": target["id"]})
    assert itself.status_code == 400


def test_another_organisation_s_contacts_are_404(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = _create(other_tenant.client, name="Segredo",
                     identities=[{"kind": "email", "value": "s@globex.test"}])
    mine = _create(tenant.client, name="Ana")
    api = tenant.client
    assert api.get(f"/api/v1/contacts/{theirs['id']}").status_code == 404
    assert api.patch(f"/api/v1/contacts/{theirs['id']}", {"name": "x"}).status_code == 404
    assert api.post(f"/api/v1/contacts/{theirs['id']}/merge",
                    {"source_id": mine["id"]}).status_code == 404
    merge = api.post(f"/api/v1/contacts/{mine['id']}/merge", {"source_id": theirs["id"]})
    assert merge.status_code == 404
    assert "Segredo" not in api.get("/api/v1/contacts", {"q": "s@globex.test"}).content.decode()
    assert Contact.objects.get(pk=theirs["id"]).merged_into_id is None


def test_a_channel_key_cannot_read_contacts(tenant: Tenant) -> None:
    channel = Channel.objects.create(organization=tenant.org, kind=ChannelKind.API, name="api")
    _key, raw = generate_api_key(tenant.org, "channel", channel_id=channel.pk)
    contact = _create(tenant.client, name="Ana")
    bound = ApiClient(raw)
    assert bound.get("/api/v1/contacts").status_code == 403
    assert bound.get(f"/api/v1/contacts/{contact['id']}").status_code == 403
    assert bound.post("/api/v1/contacts", {"name": "x"}).status_code == 403


def test_create_is_idempotent_with_a_key(api: ApiClient) -> None:
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = api.post("/api/v1/contacts", {"name": "Ana"}, **headers)
    second = api.post("/api/v1/contacts", {"name": "Ana"}, **headers)
    assert first.json()["id"] == second.json()["id"]
    assert Contact.objects.filter(name="Ana").count() == 1


def test_edits_and_merges_send_contact_events(api: ApiClient, tenant: Tenant) -> None:
    create_subscription(tenant.org.pk, "http://127.0.0.1:9/hook",
                        ["contact.updated", "contact.merged"])
    ana = _create(api, name="Ana")
    bia = _create(api, name="Bia", notes="x")
    api.patch(f"/api/v1/contacts/{ana['id']}", {"notes": "VIP"})
    api.post(f"/api/v1/contacts/{ana['id']}/merge", {"source_id": bia["id"]})
    updated = Event.objects.filter(organization=tenant.org, type="contact.updated",
                                   payload__id=ana["id"]).order_by("pk").last()
    assert updated is not None and updated.payload["changes"] == ["notes"]
    merged = Event.objects.get(organization=tenant.org, type="contact.merged")
    assert merged.payload == {"id": ana["id"], "name": "Ana", "company_id": None,
                              "source_id": bia["id"], "ticket_count": 0}
    assert WebhookDelivery.objects.filter(organization=tenant.org,
                                          event_type="contact.merged").count() == 1
