"""Synchronisation is safe against repeats and any order of storage, and never crosses
organisations."""

from __future__ import annotations

import random

import pytest

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.consumidor_gov.client import ConsumidorClient
from atende.connectors.consumidor_gov.models import Complaint, PlatformStatus
from atende.connectors.consumidor_gov.receive import process_stored, store_complaint, sync_channel
from atende.tickets.models import Direction, Message, Ticket
from tests.conftest import Tenant
from tests.connectors.consumidor_gov.conftest import connect
from tests.fakes.consumidor_gov import FakeConsumidorGov

pytestmark = pytest.mark.django_db


def timeline(channel: Channel) -> list[tuple[str, str, str]]:
    return [(m.ticket.subject, m.direction, m.text) for m in Message.objects.filter(
        channel=channel).select_related("ticket").order_by("external_id")]


def test_a_sync_repeated_stores_and_writes_nothing_twice(
        cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    protocol = cg.new_complaint()
    cg.consumer_complements(protocol, "Mais detalhes")
    first = sync_channel(cg_channel)
    assert (first.stored, first.error) == (2, "")
    again = sync_channel(cg_channel)
    assert again.stored == 0
    assert Message.objects.filter(channel=cg_channel).count() == 2
    assert Ticket.objects.count() == 1 and Complaint.objects.count() == 1


@pytest.mark.parametrize("seed", range(4))
def test_any_storage_order_gives_the_same_tickets(
        seed: int, tenant: Tenant, cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    protocols = [cg.new_complaint(text=f"Reclamação {n}") for n in range(3)]
    cg.consumer_complements(protocols[0], "Complemento A")
    cg.consumer_complements(protocols[2], "Complemento C")
    cg.consumer_evaluates(protocols[1], resolved=False, score=2, comment="Nada feito")
    client = ConsumidorClient.for_channel(cg_channel)
    details = [client.get_complaint(p) for p in protocols]
    steps = [(d, t) for d in details for t in d["tramites"]]
    random.Random(seed).shuffle(steps)
    for detail, tramite in steps:  # each trâmite stored alone, in a shuffled order
        store_complaint(cg_channel, {**detail, "tramites": [tramite]})
        store_complaint(cg_channel, {**detail, "tramites": [tramite]})  # and repeated
    events = list(InboundEvent.objects.filter(channel=cg_channel).order_by("pk"))
    random.Random(seed).shuffle(events)
    process_stored(cg_channel, events)

    assert set(InboundEvent.objects.filter(channel=cg_channel).values_list(
        "status", flat=True)) == {InboundStatus.PROCESSED}
    assert Ticket.objects.filter(organization=tenant.org).count() == 3
    for protocol in protocols:
        complaint = Complaint.objects.get(protocol=protocol)
        notes = Message.objects.filter(ticket=complaint.ticket, direction=Direction.NOTE)
        assert notes.order_by("created_at", "pk").first().external_id == f"{protocol}:1"
    evaluated = Complaint.objects.get(protocol=protocols[1])
    assert evaluated.status == PlatformStatus.EVALUATED and evaluated.score == 2
    assert evaluated.resolved is False


def test_an_unreadable_trâmite_is_quarantined_and_the_others_go_on(
        cg: FakeConsumidorGov, cg_channel: Channel) -> None:
    good = cg.new_complaint()
    detail = ConsumidorClient.for_channel(cg_channel).get_complaint(good)
    store_complaint(cg_channel, {**detail, "tramites": [{"codigo": "x", "textos": []}]})
    store_complaint(cg_channel, detail)
    process_stored(cg_channel, list(InboundEvent.objects.filter(channel=cg_channel)))
    statuses = dict(InboundEvent.objects.filter(channel=cg_channel).values_list(
        "provider_id", "status"))
    assert statuses == {f"{good}:x": InboundStatus.QUARANTINED,
                        f"{good}:1": InboundStatus.PROCESSED}


def test_complaints_stay_in_their_organisation(
        tenant: Tenant, other_tenant: Tenant, cg: FakeConsumidorGov,
        cg_channel: Channel) -> None:
    other = connect(other_tenant.org, other_tenant.service, cg)
    protocol = cg.new_complaint()
    sync_channel(cg_channel)
    sync_channel(other)
    # The same platform account in two organisations: each keeps its own copy.
    mine = Complaint.objects.get(channel=cg_channel, protocol=protocol)
    theirs = Complaint.objects.get(channel=other, protocol=protocol)
    assert mine.organization_id == tenant.org.pk and theirs.organization_id == other_tenant.org.pk
    assert mine.ticket is not None and theirs.ticket is not None
    assert mine.ticket.organization_id == tenant.org.pk
    assert theirs.ticket.organization_id == other_tenant.org.pk
    assert mine.ticket.contact.organization_id == tenant.org.pk
    assert theirs.ticket.contact_id != mine.ticket.contact_id
