"""`ingest_many` and `ingest` are one implementation (a single message is a run of one): a
batch has the outcome of the same messages ingested one call at a time, which the scenarios
below spell out, with a number of statements that does not grow with the batch."""

from __future__ import annotations

import hashlib
import posixpath
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.models import Channel, ChannelKind
from atende.contacts.models import Contact, ContactIdentity
from atende.realtime.models import Event
from atende.tickets.models import (
    Attachment,
    AuditEntry,
    Message,
    SlaPolicy,
    Status,
    ThreadReference,
    Ticket,
)
from atende.tickets.services import ingest as ingest_module
from atende.tickets.services import ingest_batch
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.ingest import IngestResult, ingest, ingest_many
from atende.tickets.services.ticket_numbers import last_number
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

    def stored_file(a: Attachment) -> tuple[str, str, bool]:
        # The name is the content's digest; a second copy of the same bytes (in the other
        # run, too) gets a suffix from the storage.
        folder, name = posixpath.split(a.file.name)
        with default_storage.open(a.file.name) as f:
            intact = hashlib.sha256(f.read()).hexdigest() == a.sha256
        return folder, name[:64], intact

    contacts = Contact.objects.filter(organization_id=org_id).order_by("pk")
    return {
        "results": [norm_result(r) for r in results],
        # The first identity is where replies go (`sending`): the order they were made in.
        "identity_order": [[(i.kind, i.value) for i in c.identities.order_by("created_at", "pk")]
                           for c in contacts],
        "attachments": [(label("M", a.message_id, since["message"]), a.filename,
                         a.content_type, a.size, a.sha256, *stored_file(a))
                        for a in Attachment.objects.filter(organization_id=org_id)
                        .order_by("pk")],
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


def one_call_at_a_time(channel: Channel, batch: list[InboundMessage]
                       ) -> list[IngestResult | Exception]:
    """The batch as a sequence of batches of one: `ingest` for each message."""
    results: list[IngestResult | Exception] = []
    for inbound in batch:
        try:
            with transaction.atomic():
                results.append(ingest(inbound, channel))
        except Exception as exc:
            results.append(exc)
    return results


def same_as_one_call_at_a_time(org_id: int, channel: Channel, batch: list[InboundMessage],
                               monkeypatch: pytest.MonkeyPatch, *, set_based: bool = True
                               ) -> dict[str, Any]:
    """What `ingest_many` wrote for `batch`, checked against `ingest` called for one message
    at a time from the same state; `set_based`: the batch was never redone as runs of
    one."""
    since = next_ids()
    try:
        with transaction.atomic():
            expected = snapshot(org_id, one_call_at_a_time(channel, batch), since)
            raise Rollback
    except Rollback:
        pass
    one_at_a_time = []

    def spy(channel: Channel, inbound: InboundMessage, first_delivery: bool) -> Any:
        one_at_a_time.append(inbound.external_id)
        return real_one(channel, inbound, first_delivery)

    real_one = ingest_module._ingest_one
    monkeypatch.setattr(ingest_module, "_ingest_one", spy)
    since = next_ids()
    with transaction.atomic():
        got = snapshot(org_id, ingest_many(channel, batch), since)
    monkeypatch.setattr(ingest_module, "_ingest_one", real_one)
    for part in expected:
        if part == "resolution_due":
            assert all(a == b or abs(a - b) < timedelta(seconds=30)
                       for a, b in zip(got[part], expected[part], strict=True))
        else:
            assert got[part] == expected[part], part
    if set_based:
        assert one_at_a_time == []
    return got


def test_mixed_batch_matches_one_call_at_a_time(tenant: Tenant, channel: Channel,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
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
            InboundAttachment("nota.txt", "text/plain", b"oi"),)),
        msg(channel, "f2", "fabi", 20, text=""),  # an empty message joins f1's ticket
        msg(channel, "g1", "gil", 21, text=""),  # an empty message opens a ticket
        msg(channel, "b2", "bia", 22),
    ]
    stored = {t.contact.name: t.pk for t in Ticket.objects.all()}
    got = same_as_one_call_at_a_time(tenant.org.pk, channel, batch, monkeypatch)
    results = dict(zip([m.external_id for m in batch[:4]] + ["a1-again"]
                       + [m.external_id for m in batch[5:]], got["results"], strict=True))
    # (ticket, message, created_ticket, duplicate, reopened); new rows labelled in order.
    assert results == {
        "a1": ("T0", "M0", True, False, False),
        "b1": (stored["Bia"], "M1", False, False, False),
        "a2": ("T0", "M2", False, False, False),
        "old-bia": (stored["Bia"], results["old-bia"][1], False, True, False),
        "a1-again": ("T0", "M0", False, True, False),
        "x1": "ValidationError",
        "c1": (stored["Caio"], "M3", False, False, False),
        "d1": (stored["Duda"], "M4", False, False, True),
        "e1": ("T1", "M5", True, False, False),
        "f1": ("T2", "M6", True, False, False),
        "f2": ("T2", "M7", False, False, False),
        "g1": ("T3", "M8", True, False, False),
        "b2": (stored["Bia"], "M9", False, False, False),
    }
    tickets = {t[0]: t for t in got["tickets"]}
    assert tickets["T0"][1:4] == ("Pedido 123", "mensagem a1", Status.NEW)
    assert tickets["T3"][1:4] == ("—", "", Status.NEW)  # an empty message: no subject
    assert tickets[stored["Caio"]][3] == tickets[stored["Duda"]][3] == Status.OPEN
    assert all(t[8] is not None for t in tickets.values())  # the default policy's clocks
    label = f"channel:{channel.pk}"
    assert [a[:5] for a in got["audit"]] == [
        ("T0", label, "created", "", None),
        (stored["Caio"], label, "status_changed", "status", Status.PENDING),
        (stored["Duda"], label, "reopened", "status", Status.RESOLVED),
        ("T1", label, "created", "", None),
        ("T1", label, "linked", "", None),
        ("T2", label, "created", "", None),
        ("T3", label, "created", "", None),
    ]
    assert got["audit"][4][5] == {"ticket": stored["Eva"]}
    assert [e[0] for e in got["events"]] == [
        "ticket.created", "message.created",  # a1
        "ticket.updated", "message.created",  # b1
        "ticket.updated", "message.created",  # a2
        "ticket.updated", "ticket.status_changed", "message.created",  # c1
        "ticket.updated", "ticket.status_changed", "message.created",  # d1
        "ticket.created", "message.created",  # e1
        "ticket.created", "message.created",  # f1
        "ticket.updated", "message.created",  # f2
        "ticket.created",  # g1: an empty first message is announced by none
        "ticket.updated", "message.created",  # b2
    ]
    assert [e[2] for e in got["events"] if e[0] == "ticket.status_changed"] == [
        Status.PENDING, Status.RESOLVED]
    assert [d[0] for d in got["deliveries"]] == [
        e[0] for e in got["events"]
        if e[0] in ("ticket.created", "message.created", "ticket.status_changed")]
    assert [(m[1], m[2], m[4]) for m in got["messages"] if m[0] in ("M6", "M7", "M8")] == [
        ("T2", "mensagem f1", "f1"), ("T2", "", "f2"), ("T3", "", "g1")]
    assert [m[3] for m in got["messages"] if m[0] == "M1"] == ["<p>oi</p>"]
    # A key keeps its first ticket: eva's closed one, though her reply opened another.
    assert ("conv-ana", "T0") in got["references"]
    assert ("conv-eva", stored["Eva"]) in got["references"]
    assert [c[1] for c in got["contacts"]] == ["Ana", "Fabi", "Gil"]


def test_tokens_attachments_and_extra_identities_match_one_call_at_a_time(
        tenant: Tenant, other_tenant: Tenant, channel: Channel, settings: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Mail's usual extras go the set-based way with the outcome of single calls: ticket-number
    tokens (open, resolved, closed with and without reopening, another organisation's
    number, a number nobody has), attachments (one too large) and extra identities."""
    settings.ATTACHMENT_MAX_BYTES = 1000
    actor = Actor(label="t")
    ticket = {who: ingest(msg(channel, f"old-{who}", who, n)).ticket
              for n, who in enumerate(["bia", "caio", "duda", "eva", "fabi", "hugo"])}
    update_ticket(ticket["duda"], actor, status=Status.RESOLVED)
    update_ticket(ticket["eva"], actor, status=Status.CLOSED)
    update_ticket(ticket["fabi"], actor, status=Status.CLOSED)
    number = {who: t.number for who, t in ticket.items()}
    # The other organisation has a ticket with bia's number and one with a number only
    # it has: neither may ever receive this organisation's mail.
    other_channel = Channel.objects.create(organization=other_tenant.org,
                                           kind=ChannelKind.API, name="ERP")
    others = [ingest(msg(other_channel, f"o{n}", "bia", n)).ticket for n in range(2)]
    Ticket.objects.filter(pk=others[1].pk).update(number=500)
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 3

    def token(external_id: str, who: str, minute: int, ticket_number: int,
              **kw: Any) -> InboundMessage:  # a reply threaded by its subject token only
        return msg(channel, external_id, who, minute, thread_keys=(),
                   ticket_number=ticket_number, **kw)

    batch = [
        token("t-open", "zeca", 10, number["bia"]),  # anyone naming it joins (no sender check)
        token("t-resolved", "duda", 11, number["duda"]),  # reopens
        token("t-closed", "eva", 12, number["eva"], reopen_closed=False),  # a linked ticket
        token("t-closed-reopen", "fabi", 13, number["fabi"]),  # reopens the closed ticket
        token("t-other-org", "ines", 14, 500),  # only the other organisation has it: new
        token("t-missing", "joao", 15, 8888),  # nobody has it: a new ticket
        msg(channel, "t-keys-first", "bia", 16, thread_keys=("conv-caio",),
            ticket_number=number["duda"]),  # a reference wins over the token
        token("t-again", "zeca", 17, number["bia"], text=""),  # empty, on the same ticket
        msg(channel, "a-new", "kiko", 20, attachments=(
            InboundAttachment("../../etc/comprovante.pdf", "", pdf),
            InboundAttachment("nota\x00.txt", "text/plain", b"oi"))),
        msg(channel, "a-reply", "kiko", 21, attachments=(
            InboundAttachment("comprovante.pdf", "application/pdf", pdf),)),  # same bytes
        msg(channel, "a-only", "lia", 22, text="", attachments=(
            InboundAttachment("foto.jpg", "image/jpeg", b"\xff\xd8"),)),  # no text at all
        msg(channel, "a-big", "mara", 23, attachments=(
            InboundAttachment("grande.bin", "", b"x" * 1001),)),  # fails alone
        msg(channel, "a-after-big", "mara", 24),
        msg(channel, "i-new", "nina", 30, extra_identities=(
            ContactRef("phone", "(11) 98888-7777"), ContactRef("email", "Nina@Example.com"))),
        msg(channel, "i-by-extra", "nina-phone", 31, contact=ContactRef("phone",
                                                                         "+5511988887777")),
        msg(channel, "i-taken", "otto", 32, extra_identities=(
            ContactRef("email", "hugo@example.com"), ContactRef("phone", "11988887777"),
            ContactRef("whatsapp", "5511977776666"))),
        msg(channel, "i-stored", "hugo", 33, extra_identities=(
            ContactRef("cpf", "529.982.247-25"),)),
        msg(channel, "i-bad", "pia", 34, extra_identities=(ContactRef("phone", "abc"),)),
        msg(channel, "i-after-bad", "pia", 35),
        msg(channel, "i-via-whatsapp", "otto-wa", 36,
            contact=ContactRef("whatsapp", "+55 11 97777-6666")),
        msg(channel, "i-wa-first", "quim", 37, contact=ContactRef("whatsapp", "5511966665555"),
            extra_identities=(ContactRef("email", "quim@example.com"),)),
    ]
    got = same_as_one_call_at_a_time(tenant.org.pk, channel, batch, monkeypatch)
    results = dict(zip([m.external_id for m in batch], got["results"], strict=True))
    assert results["a-big"] == "AttachmentTooLarge"
    assert results["i-bad"] == "ValidationError"
    assert results["t-open"][0] == results["t-again"][0] == ticket["bia"].pk
    assert results["t-resolved"][0] == ticket["duda"].pk and results["t-resolved"][4]
    assert results["t-closed-reopen"][0] == ticket["fabi"].pk
    assert results["t-keys-first"][0] == ticket["caio"].pk
    for new in ("t-closed", "t-other-org", "t-missing"):
        assert results[new][2], new  # a ticket of its own
    assert len(got["attachments"]) == 4 and all(a[-1] for a in got["attachments"])
    assert {a[1] for a in got["attachments"]} == {"comprovante.pdf", "nota.txt", "foto.jpg"}
    kinds = [[k for k, _v in c] for c in got["identity_order"]]
    assert ["email", "phone"] in kinds and ["whatsapp", "email"] in kinds
    made = list(ContactIdentity.objects.filter(organization=tenant.org)
                .values_list("created_at", flat=True))
    assert len(set(made)) == len(made)  # never a tie for a contact's first identity
    # Nothing reached the other organisation's tickets.
    assert Message.objects.filter(ticket__in=others).count() == 2
    assert set(Ticket.objects.filter(pk__in=[t.pk for t in others])
               .values_list("status", flat=True)) == {Status.NEW}


def test_token_of_a_ticket_the_run_opens_joins_it(tenant: Tenant, channel: Channel,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A token naming the number an earlier message of the same run gets: a run of one
    would find that ticket, so the run is taken one message at a time (only then is the
    number known)."""
    ingest(msg(channel, "old", "bia", 0))

    def batch() -> list[InboundMessage]:
        following = last_number(tenant.org.pk) + 1
        return [msg(channel, "n1", "ana", 1),
                msg(channel, "n2", "caio", 2, thread_keys=(), ticket_number=following)]

    expected = None
    try:
        with transaction.atomic():
            expected = [(r.ticket.subject, r.created_ticket) for r in one_call_at_a_time(
                channel, batch()) if isinstance(r, IngestResult)]
            raise Rollback
    except Rollback:
        pass
    with transaction.atomic():
        results = ingest_many(channel, batch())
    assert [(r.ticket.subject, r.created_ticket) for r in results
            if isinstance(r, IngestResult)] == expected
    first, second = results
    assert isinstance(first, IngestResult) and isinstance(second, IngestResult)
    assert second.ticket.pk == first.ticket.pk and not second.created_ticket


def test_tickets_are_locked_once_in_id_order(tenant: Tenant, channel: Channel) -> None:
    """Two pollers of one organisation lock the tickets they both answer in the same order,
    so one waits for the other instead of deadlocking: one locking read per run, by id,
    whatever the order of references and tokens in the mail."""
    tickets = [ingest(msg(channel, f"old-{n}", f"c{n}", n)).ticket for n in range(3)]
    batch = [msg(channel, "r2", "c2", 10), msg(channel, "r0", "x", 11, thread_keys=(),
                                               ticket_number=tickets[0].number),
             msg(channel, "r1", "c1", 12)]
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        results = ingest_many(channel, batch)
    assert [r.ticket.pk for r in results if isinstance(r, IngestResult)] == [
        tickets[2].pk, tickets[0].pk, tickets[1].pk]
    locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    if connection.vendor == "postgresql":
        assert len(locking) == 1, locking
        assert locking[0].rstrip().endswith('ORDER BY "tickets_ticket"."id" ASC FOR UPDATE')


def test_batch_matches_for_whatsapp_style_keys(tenant: Tenant, channel: Channel) -> None:
    """Many new customers with two messages each, first_delivery as the WhatsApp drain."""
    batch = [msg(channel, f"{n}-{i}", f"cliente{n}", n * 2 + i) for n in range(6)
             for i in range(2)]
    since = next_ids()
    try:
        with transaction.atomic():
            expected = snapshot(tenant.org.pk, one_call_at_a_time(channel, batch), since)
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


def test_statements_do_not_grow_with_mail_extras(tenant: Tenant, channel: Channel) -> None:
    """Tokens, attachments and extra identities cost no statement per message either."""
    SlaPolicy.objects.create(organization=tenant.org, name="Padrão", is_default=True,
                             first_response_minutes=60, resolution_minutes=480)
    stored = [ingest(msg(channel, f"old-{n}", f"old{n}", n)).ticket for n in range(15)]
    for reopens in (stored[0], stored[3]):  # one in each batch: its SLA clock runs again
        update_ticket(reopens, Actor(label="t"), status=Status.RESOLVED)

    def batch(first: int, size: int) -> list[InboundMessage]:
        file = (InboundAttachment("nota.pdf", "application/pdf", b"%PDF" * 50),)
        return [m for n in range(first, first + size) for m in (
            msg(channel, f"tk-{n}", f"new{n}", n, thread_keys=(), attachments=file,
                ticket_number=stored[n].number,
                extra_identities=(ContactRef("phone", f"+551198{n:07d}"),)),
            msg(channel, f"nw-{n}", f"other{n}", n, attachments=file))]

    assert statements(channel, batch(0, 3)) == statements(channel, batch(3, 12))
    assert Attachment.objects.count() == 30 and Ticket.objects.count() == 30


def hide_once(monkeypatch: pytest.MonkeyPatch, email: str) -> None:
    """The first read of contacts misses `email`'s, as when a concurrent delivery stores
    it just after the read: the insert that follows hits the unique constraint."""
    real = ingest_batch.contacts_by_identity
    calls = []

    def racing(organization: Any, identities: Any) -> Any:
        found = real(organization, identities)
        if not calls:
            found.pop(("email", email), None)
        calls.append(identities)
        return found

    monkeypatch.setattr(ingest_batch, "contacts_by_identity", racing)


def test_unexpected_failure_redoes_the_run_one_by_one(
        tenant: Tenant, channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that fails (here a concurrent insert of the same contact) is redone as runs
    of one, each item alone."""
    ana = ingest(msg(channel, "old", "ana", 0)).ticket.contact
    hide_once(monkeypatch, "ana@example.com")
    batch = [msg(channel, "a1", "ana", 1),
             msg(channel, "x", "not an address", 2), msg(channel, "b1", "bia", 3)]
    with transaction.atomic():
        results = ingest_many(channel, batch)
    assert [type(r).__name__ for r in results] == ["IngestResult", "ValidationError",
                                                   "IngestResult"]
    first = results[0]
    assert isinstance(first, IngestResult) and first.ticket.contact_id == ana.pk
    assert Contact.objects.count() == 2 and ContactIdentity.objects.count() == 2
    assert Ticket.objects.count() == 2 and Message.objects.count() == 3
    assert Event.objects.filter(type="ticket.created").count() == 2


def test_single_ingest_retries_after_a_concurrent_contact(
        tenant: Tenant, channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    ana = ingest(msg(channel, "old", "ana", 0)).ticket
    hide_once(monkeypatch, "ana@example.com")
    again = ingest(msg(channel, "a1", "ana", 1))
    assert again.ticket.pk == ana.pk and not again.created_ticket and not again.duplicate
    assert Contact.objects.count() == 1 and Message.objects.count() == 2


def test_a_concurrent_duplicate_ends_as_the_stored_message(tenant: Tenant,
                                                          channel: Channel) -> None:
    """`first_delivery` skips the look-up (as a racing delivery would miss the row): the
    unique constraint turns the insert into the stored message, with nothing else kept."""
    first = ingest(msg(channel, "m1", "ana", 0))
    audit = AuditEntry.objects.count()
    again = ingest(msg(channel, "m1", "bia", 1), first_delivery=True)
    assert again.duplicate and again.message.pk == first.message.pk
    assert again.ticket.pk == first.ticket.pk
    assert Contact.objects.count() == 1 and Ticket.objects.count() == 1
    assert AuditEntry.objects.count() == audit


def test_a_token_in_a_run_of_one_is_never_one_by_one(
        tenant: Tenant, channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first message of a run has no earlier one that could open the ticket its token
    names: the run stays set-based (and a single `ingest` is always a run)."""
    following = last_number(tenant.org.pk) + 1
    batch = [msg(channel, "n1", "ana", 1, thread_keys=(), ticket_number=following),
             msg(channel, "n2", "bia", 2)]
    got = same_as_one_call_at_a_time(tenant.org.pk, channel, batch, monkeypatch)
    assert [r[2] for r in got["results"]] == [True, True]


@pytest.mark.parametrize("seed", range(6))
def test_any_arrival_order_matches_one_call_at_a_time(
        seed: int, tenant: Tenant, channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shuffled conversations with redeliveries (of stored messages and within the batch),
    replies to tickets in every status and tokens: a batch is its calls one at a time."""
    rng = random.Random(seed)
    actor = Actor(label="t")
    stored = {who: ingest(msg(channel, f"old-{who}", who, n)).ticket
              for n, who in enumerate(["bia", "caio", "duda", "eva"])}
    update_ticket(stored["caio"], actor, status=Status.PENDING)
    update_ticket(stored["duda"], actor, status=Status.RESOLVED)
    update_ticket(stored["eva"], actor, status=Status.CLOSED)
    pool = [msg(channel, f"{who}{n}", who, rng.randrange(60), text=rng.choice(["", "oi"]),
                reopen_closed=rng.random() < 0.5)
            for who in ("ana", "bia", "caio", "duda", "eva", "fabi") for n in range(2)]
    pool += [msg(channel, f"tk-{who}", "gil", rng.randrange(60), thread_keys=(),
                 ticket_number=t.number) for who, t in stored.items()]
    pool.append(msg(channel, "old-bia", "bia", 0))
    rng.shuffle(pool)
    batch = [*pool, *rng.sample(pool, 4)]  # redeliveries within the batch
    rng.shuffle(batch)
    got = same_as_one_call_at_a_time(tenant.org.pk, channel, batch, monkeypatch)
    assert sum(r[3] for r in got["results"]) == 5  # duplicates
