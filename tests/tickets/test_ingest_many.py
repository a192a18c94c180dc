"""`ingest_many`, the set-based path: the same outcome as `ingest` message by message, with
a number of statements that does not grow with the batch."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from atende.connectors.base import ContactRef, InboundAttachment, InboundMessage
from atende.connectors.models import Channel, ChannelKind
from atende.contacts.models import Contact, ContactIdentity
from atende.realtime.models import Event
from atende.tickets.models import (
    AuditEntry,
    Message,
    SlaPolicy,
    Status,
    ThreadReference,
    Ticket,
)
from atende.tickets.services import ingest_batch
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.ingest import IngestResult, ingest, ingest_many
from atende.webhooks import subscription_memo
from atende.webhooks.models import WebhookDelivery
from atende.webhooks.services import create_subscription
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=datetime.now().astimezone().tzinfo)


@pytest.fixture
def channel(tenant: Tenant) -> Channel:
    return Channel.objects.create(organization=tenant.org, kind=ChannelKind.API, name="ERP",
                                  service=tenant.service)


def msg(channel: Channel, external_id: str, who: str, minute: int, **kw: Any) -> InboundMessage:
    defaults: dict[str, Any] = {
        "contact": ContactRef("email", f"{who}@example.com", who.title()),
        "text": f"mensagem {external_id}",
        "thread_keys": (f"conv-{who}",), "thread_key": f"conv-{who}",
        "sent_at": T0 + timedelta(minutes=minute),
    }
    return InboundMessage(channel_id=channel.pk, external_id=external_id, **{**defaults, **kw})


class Rollback(Exception):
    pass


def snapshot(org_id: int, results: list[IngestResult | Exception], since: dict[str, int]
             ) -> dict[str, Any]:
    """Everything the ingest wrote after `since`, with new ids replaced by their order of
    creation (ids and ticket numbers are not reused after a rollback on PostgreSQL)."""
    labels: dict[tuple[str, int | None], str] = {}

    def label(kind: str, pk: int | None, first_new: int) -> Any:
        if pk is None or pk < first_new:
            return pk  # stored before the batch: the same in both runs
        return labels.setdefault((kind, pk), f"{kind}{sum(k == kind for k, _ in labels)}")

    tickets = list(Ticket.objects.filter(organization_id=org_id).order_by("pk"))
    numbers = {t.number: label("T", t.pk, since["ticket"]) for t in tickets}

    def norm_payload(payload: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in payload.items() if k != "updated_at"}
        if "number" in out:  # a ticket
            out["id"] = label("T", out["id"], since["ticket"])
            out["number"] = numbers[out["number"]]
            out.pop("protocol")
            out["contact_id"] = label("C", out["contact_id"], since["contact"])
        else:
            out["id"] = label("M", out["id"], since["message"])
            out["ticket_id"] = label("T", out["ticket_id"], since["ticket"])
            out["author_contact_id"] = label("C", out["author_contact_id"], since["contact"])
        return out

    def norm_result(r: IngestResult | Exception) -> Any:
        if isinstance(r, Exception):
            return type(r).__name__
        return (label("T", r.ticket.pk, since["ticket"]), label("M", r.message.pk,
                since["message"]), r.created_ticket, r.duplicate, r.reopened)

    return {
        "results": [norm_result(r) for r in results],
        "contacts": [(label("C", c.pk, since["contact"]), c.name, c.merged_into_id)
                     for c in Contact.objects.filter(pk__gte=since["contact"]).order_by("pk")],
        "identities": sorted([(label("C", i.contact_id, since["contact"]), i.kind, i.value)
                              for i in ContactIdentity.objects.filter(organization_id=org_id)],
                             key=repr),
        "tickets": [(label("T", t.pk, since["ticket"]), t.subject, t.description, t.status,
                     label("C", t.contact_id, since["contact"]), t.channel_id, t.service_id,
                     t.origin, t.sla_policy_id, t.first_response_due_at,
                     t.resolution_due_at is None, t.sla_due_at, t.sla_paused_at is None,
                     t.created_at,
                     t.last_inbound_at is not None)
                    for t in tickets],
        # Moves with the seconds a ticket stood pending, which depend on when each run ran.
        "resolution_due": [t.resolution_due_at for t in tickets],
        "messages": [(label("M", m.pk, since["message"]), label("T", m.ticket_id,
                      since["ticket"]), m.text, m.html, m.external_id, m.direction,
                      label("C", m.author_contact_id, since["contact"]), m.created_at,
                      m.attachments.count())
                     for m in Message.objects.filter(organization_id=org_id).order_by("pk")],
        "audit": [(label("T", a.ticket_id, since["ticket"]), a.actor_label, a.action, a.field,
                   a.before, a.after if a.action != "linked" else
                   {"ticket": label("T", a.after["ticket"], since["ticket"])})
                  for a in AuditEntry.objects.filter(pk__gte=since["audit"]).order_by("pk")],
        "references": sorted([(r.key, label("T", r.ticket_id, since["ticket"]))
                              for r in ThreadReference.objects.filter(organization_id=org_id)],
                             key=repr),
        "events": [(e.type, norm_payload({k: v for k, v in e.payload.items()
                                          if k != "previous_status"}),
                    e.payload.get("previous_status"))
                   for e in Event.objects.filter(pk__gte=since["event"]).order_by("pk")],
        "deliveries": [(d.event_type, d.subscription_id) for d in
                       WebhookDelivery.objects.filter(pk__gte=since["delivery"]).order_by("pk")],
    }


def next_ids() -> dict[str, int]:
    def after(model: Any) -> int:
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1
    return {"ticket": after(Ticket), "contact": after(Contact), "message": after(Message),
            "audit": after(AuditEntry), "event": after(Event), "delivery": after(WebhookDelivery)}


def one_by_one(channel: Channel, batch: list[InboundMessage]) -> list[IngestResult | Exception]:
    results: list[IngestResult | Exception] = []
    for inbound in batch:
        try:
            with transaction.atomic():
                results.append(ingest(inbound, channel))
        except Exception as exc:
            results.append(exc)
    return results


def test_mixed_batch_matches_ingest_one_by_one(tenant: Tenant, channel: Channel) -> None:
    SlaPolicy.objects.create(organization=tenant.org, name="Padrão", is_default=True,
                             first_response_minutes=60, resolution_minutes=480)
    create_subscription(tenant.org.pk, "https://hooks.example.com/x",
                        ["ticket.created", "message.created", "ticket.status_changed"])
    actor = Actor(label="t")
    # Stored before the batch: an open ticket, a pending one, a resolved one, a closed one
    # whose customer's answers open a new linked ticket, and a delivered message.
    ingest(msg(channel, "old-bia", "bia", 0))
    update_ticket(ingest(msg(channel, "old-caio", "caio", 1)).ticket, actor,
                  status=Status.PENDING)
    update_ticket(ingest(msg(channel, "old-duda", "duda", 2)).ticket, actor,
                  status=Status.RESOLVED)
    update_ticket(ingest(msg(channel, "old-eva", "eva", 3)).ticket, actor,
                  status=Status.CLOSED)
    batch = [
        msg(channel, "a1", "ana", 10, subject="Pedido 123"),
        msg(channel, "b1", "bia", 11, html="<p>oi<script>x()</script></p>"),
        msg(channel, "a2", "ana", 12),  # joins the ticket a1 opened
        msg(channel, "old-bia", "bia", 13),  # a redelivery of a stored message
        msg(channel, "a1", "ana", 14),  # a redelivery within the batch
        msg(channel, "x1", "not an address", 15),  # a bad identity fails alone
        msg(channel, "c1", "caio", 16),  # pending → open
        msg(channel, "d1", "duda", 17),  # resolved → reopened
        msg(channel, "e1", "eva", 18, reopen_closed=False),  # closed → a new linked ticket
        msg(channel, "f1", "fabi", 19, attachments=(
            InboundAttachment("nota.txt", "text/plain", b"oi"),)),  # the per-message path
        msg(channel, "f2", "fabi", 20, text=""),  # an empty message joins f1's ticket
        msg(channel, "g1", "gil", 21, text=""),  # an empty message opens a ticket
        msg(channel, "b2", "bia", 22),
    ]
    since = next_ids()
    try:
        with transaction.atomic():
            expected = snapshot(tenant.org.pk, one_by_one(channel, batch), since)
            raise Rollback
    except Rollback:
        pass
    since = next_ids()
    with transaction.atomic():
        got = snapshot(tenant.org.pk, ingest_many(channel, batch), since)
    for part in expected:
        if part == "resolution_due":
            assert all(a == b or abs(a - b) < timedelta(seconds=30)
                       for a, b in zip(got[part], expected[part], strict=True))
        else:
            assert got[part] == expected[part], part
    assert got["results"][5] == "ValidationError"
    assert [r[2:] for r in got["results"] if isinstance(r, tuple)][:3] == [
        (True, False, False), (False, False, False), (False, False, False)]
    assert len(got["deliveries"]) > 5 and len(got["events"]) > 15


def test_batch_matches_for_whatsapp_style_keys(tenant: Tenant, channel: Channel) -> None:
    """Many new customers with two messages each, first_delivery as the WhatsApp drain."""
    batch = [msg(channel, f"{n}-{i}", f"cliente{n}", n * 2 + i) for n in range(6)
             for i in range(2)]
    since = next_ids()
    try:
        with transaction.atomic():
            expected = snapshot(tenant.org.pk, one_by_one(channel, batch), since)
            raise Rollback
    except Rollback:
        pass
    since = next_ids()
    got = snapshot(tenant.org.pk, ingest_many(channel, batch, first_delivery=True), since)
    assert got == expected
    assert len(got["tickets"]) == 6 and len(got["messages"]) == 12


def statements(channel: Channel, batch: list[InboundMessage]) -> int:
    subscription_memo.forget()  # as in a new transaction: subscriptions read once each
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        results = ingest_many(channel, batch)
    assert not any(isinstance(r, Exception) for r in results)
    return len(queries)


def test_statements_do_not_grow_with_the_batch(tenant: Tenant, channel: Channel) -> None:
    create_subscription(tenant.org.pk, "https://hooks.example.com/x", ["message.created"])
    SlaPolicy.objects.create(organization=tenant.org, name="Padrão", is_default=True,
                             first_response_minutes=60, resolution_minutes=480)

    def batch(size: int, tag: str) -> list[InboundMessage]:
        # New customers, then a reply from each (existing tickets).
        return [msg(channel, f"{tag}-{n}-{i}", f"{tag}{n}", n, text=f"t{i}")
                for i in range(2) for n in range(size)]

    small = statements(channel, batch(3, "s"))
    large = statements(channel, batch(12, "l"))
    assert small == large
    replies_small = statements(channel, batch(3, "s")[3:])  # now only replies
    assert replies_small < 25, replies_small
    assert Ticket.objects.count() == 15 and Message.objects.count() == 30


def test_unexpected_failure_redoes_the_run_one_by_one(
        tenant: Tenant, channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest_batch, "emit_many", broken)
    batch = [msg(channel, "a1", "ana", 1), msg(channel, "x", "not an address", 2),
             msg(channel, "b1", "bia", 3)]
    with transaction.atomic():
        results = ingest_many(channel, batch)
    assert [type(r).__name__ for r in results] == ["IngestResult", "ValidationError",
                                                   "IngestResult"]
    assert Ticket.objects.count() == 2 and Message.objects.count() == 2
    assert Event.objects.filter(type="ticket.created").count() == 2
