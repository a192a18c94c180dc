"""`atende.bulk_insert`: the rows and instances Django's `bulk_create` makes, for every
model the ingest inserts with it (on SQLite and on PostgreSQL, by the test profile)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from atende.bulk_insert import bulk_insert
from atende.channels.models import Channel, ChannelKind, InboundEvent
from atende.contacts.models import Contact, ContactIdentity
from atende.realtime.models import Event
from atende.tickets.models import (
    Attachment,
    AuditEntry,
    Direction,
    Message,
    Status,
    ThreadReference,
    Ticket,
)
from atende.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 22, 13, 45, 1, 123456, tzinfo=UTC)
SAO_PAULO = timezone(timedelta(hours=-3))
TEXT = "Olá, 'aspas' \"duplas\" \\ barra; %s %% {1,2} ção 🎉 \t\n"


class World:
    def __init__(self, tenant: Tenant) -> None:
        self.org = tenant.org
        self.channel = Channel.objects.create(organization=self.org, kind=ChannelKind.EMAIL,
                                              name="Suporte")
        self.contact = Contact.objects.create(organization=self.org, name="Maria")
        self.ticket = Ticket.objects.create(
            organization=self.org, number=1, subject="s", contact=self.contact,
            channel=self.channel, origin="email")
        self.message = Message.objects.create(organization=self.org, ticket=self.ticket,
                                              direction=Direction.INBOUND, text="oi")
        self.sub = WebhookSubscription.objects.create(organization=self.org,
                                                      url="https://example.com/hook")


def _contacts(w: World, n: int) -> list[Contact]:
    return [Contact(organization=w.org, name=f"{TEXT}{i}"[:200]) for i in range(n)]


def _identities(w: World, n: int) -> list[ContactIdentity]:
    return [ContactIdentity(organization=w.org, contact=w.contact, kind="email",
                            value=f"c{i}-{id(w)}-{n}@example.com",
                            created_at=NOW + timedelta(microseconds=i)) for i in range(n)]


def _tickets(w: World, n: int) -> list[Ticket]:
    return [Ticket(organization=w.org, number=1000 + i + (n * 10_000 if n % 2 else 0),
                   subject=TEXT, description=TEXT * 3, status=Status.NEW,
                   contact=w.contact, channel=w.channel, origin="email",
                   custom_fields={"a": [1, "ç", None], "b": {"c": 1.5}} if i % 2 else {},
                   created_at=NOW.astimezone(SAO_PAULO), updated_at=NOW,
                   last_inbound_at=NOW if i % 2 else None,
                   sla_due_at=NOW + timedelta(hours=i)) for i in range(n)]


def _messages(w: World, n: int) -> list[Message]:
    return [Message(organization=w.org, ticket=w.ticket, direction=Direction.INBOUND,
                    channel=w.channel, author_contact=w.contact if i % 2 else None,
                    text=TEXT, html=f"<p>{TEXT}</p>", external_id=f"<m{i}@x>" if i else "",
                    created_at=NOW - timedelta(minutes=i)) for i in range(n)]


def _audit(w: World, n: int) -> list[AuditEntry]:
    values: list[Any] = [None, "new", {"status": "new", "origin": "email"}, 12, [1, "x"], True]
    return [AuditEntry(organization=w.org, ticket=w.ticket, actor_label=f"channel:{i}",
                       action="created", field="status" if i % 2 else "",
                       before=values[i % len(values)], after=values[-1 - i % len(values)],
                       created_at=NOW) for i in range(n)]


def _references(w: World, n: int) -> list[ThreadReference]:
    return [ThreadReference(organization=w.org, channel=w.channel,
                            key=f"<k{i}-{n}-{id(w)}@x>", ticket=w.ticket) for i in range(n)]


def _attachments(w: World, n: int) -> list[Attachment]:
    rows = []
    for i in range(n):
        row = Attachment(organization=w.org, message=w.message, filename=f"a{i}.pdf",
                         content_type="application/pdf", size=3, sha256="0" * 64)
        row.file.save(row.filename, ContentFile(b"abc"), save=False)
        rows.append(row)
    return rows


def _events(w: World, n: int) -> list[Event]:
    return [Event(organization_id=w.org.pk, type="ticket.created",
                  payload={"id": i, "subject": TEXT, "tags": [], "at": NOW.isoformat()})
            for i in range(n)]


def _inbound(w: World, n: int) -> list[InboundEvent]:
    return [InboundEvent(organization_id=w.org.pk, channel=w.channel,
                         provider_id=f"<p{i}-{n}-{id(w)}@x>",
                         payload={"raw": f"email/raw/{i}.eml", "size": i, "source": "imap"})
            for i in range(n)]


def _deliveries(w: World, n: int) -> list[WebhookDelivery]:
    return [WebhookDelivery(organization_id=w.org.pk, subscription_id=w.sub.pk,
                            event_type="message.created", payload={"id": i, "text": TEXT})
            for i in range(n)]


BUILDERS: dict[str, Callable[[World, int], list[Any]]] = {
    "contact": _contacts, "identity": _identities, "ticket": _tickets, "message": _messages,
    "audit": _audit, "reference": _references, "attachment": _attachments, "event": _events,
    "inbound": _inbound, "delivery": _deliveries,
}


def _rows(model: type[models.Model], pks: list[int]) -> list[dict[str, Any]]:
    """The stored rows as the database returns them, without the primary key."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id IN ({', '.join(['%s'] * len(pks))})"
                       " ORDER BY id", pks)
        names = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    return [{name: v for name, v in zip(names, row, strict=True) if name != "id"}
            for row in rows]


def _state(objs: list[Any]) -> list[dict[str, Any]]:
    meta = objs[0]._meta
    return [{f.attname: getattr(o, f.attname) for f in meta.concrete_fields if not f.primary_key}
            | {"adding": o._state.adding, "db": o._state.db} for o in objs]


# Columns under a unique constraint: the second set gets values of its own.
UNIQUE = {"identity": "value", "reference": "key", "inbound": "provider_id",
          "ticket": "number", "message": "external_id", "delivery": "delivery_id",
          "attachment": "file"}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_rows_and_instances_are_bulk_creates(tenant: Tenant, name: str) -> None:
    w = World(tenant)
    build = BUILDERS[name]
    # `auto_now` reads the clock in `pre_save`; a default's is read as the instances are made
    # (copied over below).
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        theirs, ours = build(w, 7), build(w, 7)
        meta = theirs[0]._meta
        unique = UNIQUE.get(name)
        for a, b in zip(theirs, ours, strict=True):
            for field in meta.concrete_fields:
                if field.primary_key:
                    continue
                if field.attname == unique:
                    value = getattr(a, field.attname)
                    if isinstance(value, int):
                        setattr(b, field.attname, value + 100_000)
                    elif isinstance(value, str) and value:
                        setattr(b, field.attname, value + "-2")
                elif callable(field.default):
                    setattr(b, field.attname, getattr(a, field.attname))
        type(theirs[0]).objects.bulk_create(theirs)
        with CaptureQueriesContext(connection) as queries:
            bulk_insert(ours)
    assert len(queries) == 1
    model = type(ours[0])
    assert all(o.pk is not None for o in ours)
    assert [o.pk for o in ours] == sorted(o.pk for o in ours)
    theirs_rows, our_rows = (_rows(model, [o.pk for o in objs]) for objs in (theirs, ours))
    theirs_state, our_state = _state(theirs), _state(ours)
    if unique:
        column = meta.get_field(unique).column
        for row in (*theirs_rows, *our_rows):
            row.pop(column)
        for state in (*theirs_state, *our_state):
            state.pop(unique)
    assert our_rows == theirs_rows
    assert our_state == theirs_state
    stored = model.objects.in_bulk([o.pk for o in ours])  # and read back, the same values
    assert _state([stored[o.pk] for o in ours]) == _state(ours)


def test_related_objects_saved_after_assignment_give_their_ids(tenant: Tenant) -> None:
    w = World(tenant)
    ticket = _tickets(w, 1)[0]
    message = Message(organization=w.org, ticket=ticket, direction=Direction.INBOUND, text="x")
    audit = AuditEntry(organization=w.org, ticket=ticket, action="created")
    with pytest.raises(ValueError, match="unsaved related object 'ticket'"):
        bulk_insert([message])
    assert not Message.objects.filter(text="x").exists()
    bulk_insert([ticket])
    bulk_insert([message])
    bulk_insert([audit])
    assert message.ticket_id == ticket.pk and audit.ticket_id == ticket.pk
    assert Message.objects.get(pk=message.pk).ticket_id == ticket.pk
    assert AuditEntry.objects.get(pk=audit.pk).ticket_id == ticket.pk


def test_ignore_conflicts_skips_the_clashing_rows_and_sets_no_key(tenant: Tenant) -> None:
    w = World(tenant)
    first = ThreadReference(organization=w.org, channel=w.channel, key="<a@x>", ticket=w.ticket)
    bulk_insert([first])
    other = Ticket.objects.create(organization=w.org, number=2, subject="s", contact=w.contact,
                                  origin="email")
    again = ThreadReference(organization=w.org, channel=w.channel, key="<a@x>", ticket=other)
    new = ThreadReference(organization=w.org, channel=w.channel, key="<b@x>", ticket=other)
    bulk_insert([again, new], ignore_conflicts=True)
    assert again.pk is None and new.pk is None
    assert not again._state.adding
    assert dict(ThreadReference.objects.filter(channel=w.channel).values_list(
        "key", "ticket_id")) == {"<a@x>": w.ticket.pk, "<b@x>": other.pk}


def test_what_it_does_not_handle_goes_through_django(tenant: Tenant) -> None:
    w = World(tenant)
    events = _events(w, 2)
    events[1].created_at = models.functions.Now()  # an expression: Django compiles it
    bulk_insert(events)
    assert all(e.pk for e in events)
    assert Event.objects.get(pk=events[1].pk).created_at is not None
    bulk_insert([])  # nothing to do, no statement
