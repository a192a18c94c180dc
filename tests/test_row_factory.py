"""`row_factory(Model)(**values)` makes the instance `Model(**values)` makes, on every model
the ingest builds with it, with the values it passes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db.models import Model
from django.db.models.signals import post_init
from django.utils import timezone

from atende.channels.models import Channel, InboundEvent
from atende.contacts.models import Contact, ContactIdentity
from atende.realtime.models import Event
from atende.row_factory import row_factory
from atende.tickets.models import (
    AuditEntry,
    Direction,
    Message,
    Priority,
    Status,
    ThreadReference,
    Ticket,
)

pytestmark = pytest.mark.django_db


def assert_same(model: type[Model], **values: Any) -> Model:
    expected, made = model(**values), row_factory(model)(**values)
    assert type(made) is model
    assert made is not expected
    for key in expected.__dict__.keys() | made.__dict__.keys():
        if key == "_state":
            continue
        want, got = expected.__dict__[key], made.__dict__[key]
        if isinstance(want, datetime) and key not in values:
            # A callable default (timezone.now) is called for each row: a moment later.
            assert isinstance(got, datetime) and abs(got - want) < timedelta(seconds=5), key
        else:
            assert got == want and type(got) is type(want), key
    assert made._state.fields_cache == expected._state.fields_cache
    assert made._state.db == expected._state.db
    assert made._state.adding is expected._state.adding is True
    return made


def test_the_ingest_rows_are_made_as_by_the_constructor(tenant: Any) -> None:
    org = tenant.org
    channel = Channel.objects.create(organization=org, name="Mail", kind="email",
                                     service=tenant.service)
    stored = Ticket.objects.create(
        organization=org, number=1, subject="stored",
        contact=Contact.objects.create(organization=org, name="Ana"))
    new_contact = assert_same(Contact, organization=org, name="Maria")
    new_ticket = assert_same(
        Ticket, organization=org, number=0, subject="Pedido", description="texto",
        category="", priority=Priority.NORMAL, status=Status.NEW, contact=new_contact,
        channel=channel, service=channel.service, origin=channel.kind, custom_fields={},
        created_at=timezone.now(), updated_at=timezone.now(), last_inbound_at=timezone.now())
    for ticket in (new_ticket, stored):  # unsaved (no id yet) and stored
        assert_same(Message, organization=org, ticket=ticket, direction=Direction.INBOUND,
                    channel=channel, author_contact=new_contact, text="oi", html="<p>oi</p>",
                    external_id="<a@b>", created_at=timezone.now())
        assert_same(AuditEntry, organization=org, ticket=ticket, actor_label="channel:1",
                    action="created", field="", before=None, after={"status": "new"})
        assert_same(ThreadReference, organization=org, channel=channel, key="<a@b>",
                    ticket=ticket)
    assert_same(ContactIdentity, organization=org, contact=new_contact, kind="email",
                value="maria@example.com", created_at=timezone.now())
    assert_same(InboundEvent, organization_id=org.pk, channel=channel, provider_id="<a@b>",
                payload={"raw": "x.mails"})
    assert_same(Event, organization_id=org.pk, type="ticket.created", payload={"id": 1})
    # Defaults only; a related object given as None.
    assert_same(Ticket)
    assert_same(Message, ticket=None, author_contact=None)


def test_a_callable_default_is_called_for_each_row(tenant: Any) -> None:
    make = row_factory(Ticket)
    first, second = make(organization=tenant.org), make(organization=tenant.org)
    assert first.custom_fields == {} and first.custom_fields is not second.custom_fields


def test_what_it_does_not_cover_goes_through_the_constructor(tenant: Any) -> None:
    make = row_factory(Message)
    with pytest.raises(TypeError, match="unexpected keyword"):
        make(organization=tenant.org, no_such_field=1)
    with pytest.raises(ValueError, match="must be a \"Ticket\" instance"):
        make(organization=tenant.org, ticket=tenant.org)
    # Built as the constructor does: a model property by keyword.
    assert make(pk=5).pk == 5


def test_a_model_with_an_init_receiver_keeps_its_constructor() -> None:
    class_ = Contact

    def receiver(**_kwargs: Any) -> None:
        pass

    post_init.connect(receiver, sender=class_)
    row_factory.cache_clear()
    try:
        assert row_factory(class_) is class_
    finally:
        post_init.disconnect(receiver, sender=class_)
        row_factory.cache_clear()
    assert row_factory(class_) is not class_
