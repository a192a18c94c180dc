"""Every registered connector walked through the kit's raw-event lifecycle, through its
own receive path: a duplicate delivery, a raw event that cannot be parsed, a failure while
ingesting (a fault injected in the database), and "process again".

A connector added to the registry without a case here fails `test_every_connector_has_a_case`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from atende.channels import pipeline, registry
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import UNKNOWN_REASON, explain, reason
from atende.connectors.api.channels import create_api_channel
from atende.connectors.email.receive import receive as receive_mail
from atende.connectors.portal.channels import create_portal_channel
from atende.tickets.models import Message
from tests.conftest import ApiClient, Tenant
from tests.connectors.conftest import customer_message
from tests.connectors.consumidor_gov.conftest import cg, cg_channel  # noqa: F401
from tests.connectors.email.conftest import customer_mail, make_email_channel
from tests.connectors.meta_messaging.conftest import Deliveries, deliveries, graph  # noqa: F401
from tests.connectors.meta_messaging.conftest import connect as meta_connect
from tests.connectors.portal.conftest import sign_up as portal_sign_up
from tests.connectors.telegram.conftest import Updates, tg, tg_channel, updates  # noqa: F401
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks, wa, wa_channel, webhooks  # noqa: F401
from tests.fakes.meta_graph import FakeMetaGraph

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    """How a channel of one kind takes a raw delivery in, as its provider delivers it."""

    channel: Channel
    # Delivers the good raw event `n` (the same n: a redelivery).
    deliver: Callable[[int], None]
    # Delivers (or, where the provider's door refuses it, stores) an unreadable raw event.
    deliver_unreadable: Callable[[], None]
    # How the entry of the good event `n` begins.
    text: Callable[[int], str] = lambda n: f"Pedido {n}"


def api_case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
    channel, raw_key, _secret = create_api_channel(tenant.org, name="ERP",
                                                   service=tenant.service)
    client = ApiClient(raw_key)
    url = f"/api/v1/channels/{channel.pk}/messages"

    def deliver(n: int) -> None:
        client.post(url, customer_message(message_id=f"walk-{n}", text=f"Pedido {n}"))

    def deliver_unreadable() -> None:
        # The API answers 400 to an unreadable request and keeps nothing (the sender keeps
        # it); a stored event that no longer parses (an older version's) is what remains.
        event, _new = pipeline.store(channel, "walk-unreadable",
                                     {"message_id": "walk-unreadable", "text": 42})
        registry.get_connector("api").process(channel, [event])

    return Case(channel, deliver, deliver_unreadable)


def whatsapp_case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
    channel: Channel = request.getfixturevalue("wa_channel")
    fake = request.getfixturevalue("wa")
    hooks: Webhooks = request.getfixturevalue("webhooks")
    bodies: dict[int, Any] = {}

    def deliver(n: int) -> None:
        if n not in bodies:
            bodies[n] = fake.customer_sends(CUSTOMER, f"Pedido {n}", wamid=f"wamid.walk{n}")
            fake.outbox.clear()
        hooks.post(bodies[n])

    def deliver_unreadable() -> None:
        # Every message the provider sends is taken in (unknown types shown as such); what
        # cannot be read is a body that is not the provider's JSON.
        hooks.post(b'{"entry": [{"changes": ')

    return Case(channel, deliver, deliver_unreadable)


def email_case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
    channel = make_email_channel(tenant)
    raws: dict[int, bytes] = {}

    def deliver(n: int) -> None:
        raws.setdefault(n, customer_mail(subject=f"Pedido {n}", text=f"Pedido {n}",
                                         message_id=f"<walk-{n}@example.com>"))
        receive_mail(channel, raws[n], source="walk")

    def deliver_unreadable() -> None:
        receive_mail(channel, b"Subject: no sender\r\nMessage-ID: <walk-bad@example.com>\r\n"
                     b"\r\nhello\r\n", source="walk")

    return Case(channel, deliver, deliver_unreadable)


def telegram_case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
    channel: Channel = request.getfixturevalue("tg_channel")
    fake = request.getfixturevalue("tg")
    hooks: Updates = request.getfixturevalue("updates")
    sent: dict[int, Any] = {}

    def deliver(n: int) -> None:
        if n not in sent:
            sent[n] = fake.customer_sends(f"Pedido {n}")
            fake.outbox.clear()
        hooks.post(sent[n])

    def deliver_unreadable() -> None:
        # Every message Telegram sends is taken in (unknown types shown as such); what
        # cannot be read is a body that is not an Update.
        hooks.post(b'{"update_id": ')

    return Case(channel, deliver, deliver_unreadable)


def portal_case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
    channel = create_portal_channel(tenant.org, name="Portal", service=tenant.service)
    customer = portal_sign_up(tenant.org.slug, "carla@example.com",
                              request.getfixturevalue("mailoutbox"))

    def deliver(n: int) -> None:
        # The form as the browser sends it; the same n is the same form sent again.
        customer.client.post(f"{customer.base}new/", {
            "submission": str(uuid.uuid5(uuid.NAMESPACE_URL, f"walk-{n}")),
            "f_subject": f"Pedido {n}", "f_priority": "normal", "f_description": f"Pedido {n}"})

    def deliver_unreadable() -> None:
        # The form refuses what it cannot read; a stored event that no longer parses (an
        # older version's) is what remains.
        event, _new = pipeline.store(channel, "portal:walk-unreadable", {"text": 42})
        registry.get_connector("portal").process(channel, [event])

    return Case(channel, deliver, deliver_unreadable)


def consumidor_case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
    from atende.connectors.consumidor_gov.receive import process_pending, store_complaint

    channel: Channel = request.getfixturevalue("cg_channel")
    fake = request.getfixturevalue("cg")
    protocols: dict[int, str] = {}

    def deliver(n: int) -> None:
        # The platform is polled: a complaint read again is the redelivery.
        if n not in protocols:
            protocols[n] = fake.new_complaint(text=f"Pedido {n}")
        from atende.connectors.consumidor_gov.receive import sync_channel

        sync_channel(channel)

    def deliver_unreadable() -> None:
        # What the platform sends is read as its detail; a trâmite without its code is not.
        store_complaint(channel, {"protocolo": "20261208999999",
                                  "tramites": [{"codigo": "um", "textos": []}]})
        process_pending(channel)

    return Case(channel, deliver, deliver_unreadable)


def webchat_case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
    from tests.connectors.webchat.conftest import Visitor, make_widget

    channel = make_widget(tenant)
    visitor = Visitor(channel)
    visitor.start()

    def deliver(n: int) -> None:
        visitor.say(f"Pedido {n}", client_id=f"walk-{n}")

    def deliver_unreadable() -> None:
        # The widget's endpoint refuses a malformed message before storing it (the script
        # keeps it and says why); a stored event that no longer parses is what remains.
        event, _new = pipeline.store(channel, "walk-unreadable", {"visitor": "x", "text": 1})
        registry.get_connector("webchat").process(channel, [event])

    return Case(channel, deliver, deliver_unreadable)


def voice_case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
    from atende.connectors.voice import calls, ivr
    from atende.connectors.voice.channels import create_voice_channel

    channel = create_voice_channel(tenant.org, "Central", ["+55 11 3030-0000"])

    def deliver(n: int) -> None:
        # A call that ended unanswered, as the adapter records it (a replay finds its row).
        call = calls.open_call(channel, "fastagi", f"walk-{n}", f"+55119876543{n:02d}",
                               "+551130300000")
        state, _commands = ivr.start(ivr.IvrPlan(True, ()))
        calls.save_progress(call, ivr.step(state, ivr.HungUp())[0])
        calls.record_on_ticket(call)

    def deliver_unreadable() -> None:
        # An event naming a call that was never stored (an older version's, or lost).
        event, _new = pipeline.store(channel, "call:walk-unknown", {"call_id": "walk-unknown"})
        registry.get_connector("voice").process(channel, [event])

    return Case(channel, deliver, deliver_unreadable,
                text=lambda n: f"Ligação perdida de +55119876543{n:02d}")


def meta_case(kind: str) -> Callable[[Tenant, pytest.FixtureRequest], Case]:
    def case(tenant: Tenant, request: pytest.FixtureRequest) -> Case:
        fake: FakeMetaGraph = request.getfixturevalue("graph")
        hooks: Deliveries = request.getfixturevalue("deliveries")
        channel = meta_connect(request.getfixturevalue("admin_client"), tenant, fake, kind)
        bodies: dict[int, Any] = {}

        def deliver(n: int) -> None:
            if n not in bodies:
                fake.customer_sends(f"Pedido {n}", mid=f"walk-{n}",
                                    obj="instagram" if kind == "instagram" else "page")
                bodies[n] = fake.outbox.pop()
            hooks.post(channel, bodies[n])

        def deliver_unreadable() -> None:
            # Every item Meta sends is taken in (unsupported ones shown as such); what
            # cannot be read is a signed body that is not Meta's JSON.
            hooks.post(channel, b'{"object": "page", "entry": [')

        return Case(channel, deliver, deliver_unreadable)

    return case


CASES: dict[str, Callable[[Tenant, pytest.FixtureRequest], Case]] = {
    "api": api_case, "whatsapp": whatsapp_case, "email": email_case,
    "telegram": telegram_case, "portal": portal_case, "consumidor_gov": consumidor_case,
    "webchat": webchat_case, "voice": voice_case,
    "instagram": meta_case("instagram"), "messenger": meta_case("messenger"),
}


def test_every_connector_has_a_case() -> None:
    assert set(CASES) == set(registry.CONNECTORS)


@contextmanager
def messages_refused() -> Iterator[None]:
    """A fault in the database itself: every new ticket message is refused until the block
    ends (as a full disk or a lost connection would refuse it)."""
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE FUNCTION walk_refuse() RETURNS trigger AS $$ BEGIN "
                           "RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql")
            cursor.execute(f"CREATE TRIGGER walk_refuse BEFORE INSERT ON {table} "
                           "FOR EACH ROW EXECUTE FUNCTION walk_refuse()")
        else:
            cursor.execute(f"CREATE TRIGGER walk_refuse BEFORE INSERT ON {table} "
                           "BEGIN SELECT RAISE(ABORT, 'injected fault'); END")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER walk_refuse ON {table}")
                cursor.execute("DROP FUNCTION walk_refuse()")
            else:
                cursor.execute("DROP TRIGGER walk_refuse")


def events(channel: Channel) -> list[InboundEvent]:
    return list(InboundEvent.objects.filter(channel=channel).order_by("pk"))


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_redelivery_is_one_entry(kind: str, tenant: Tenant,
                                   request: pytest.FixtureRequest) -> None:
    case = CASES[kind](tenant, request)
    case.deliver(1)
    case.deliver(1)
    case.deliver(2)
    assert Message.objects.filter(channel=case.channel).count() == 2
    stored = events(case.channel)
    assert len(stored) == 2  # keyed by the provider's id: the redelivery found its event
    assert {e.status for e in stored} == {InboundStatus.PROCESSED}
    assert all(e.message_id for e in stored)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_an_unreadable_event_is_quarantined_in_the_kits_words(
        kind: str, tenant: Tenant, request: pytest.FixtureRequest) -> None:
    case = CASES[kind](tenant, request)
    case.deliver_unreadable()
    [event] = events(case.channel)
    assert event.status == InboundStatus.QUARANTINED
    connector = registry.get_connector(kind)
    with pytest.raises(Exception) as failure:
        connector.parse(case.channel, event)
    assert event.error == reason(failure.value)  # one way to write it, on every channel
    assert explain(event.error) not in ("", UNKNOWN_REASON)  # and a sentence for a person
    assert not Message.objects.filter(channel=case.channel).exists()

    # Processing it again changes nothing while it still cannot be read.
    assert pipeline.process_again(event) == InboundStatus.QUARANTINED
    again = InboundEvent.objects.get(pk=event.pk)
    assert again.error == reason(failure.value) and len(events(case.channel)) == 1


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_failed_ingest_is_kept_and_processed_again(
        kind: str, tenant: Tenant, request: pytest.FixtureRequest) -> None:
    case = CASES[kind](tenant, request)
    # A sender may be told of the failure; the event is kept all the same.
    with messages_refused(), suppress(Exception):
        case.deliver(1)
    [event] = events(case.channel)
    assert event.status == InboundStatus.QUARANTINED
    assert "injected fault" in event.error
    assert not Message.objects.filter(channel=case.channel).exists()

    assert pipeline.process_again(event) == InboundStatus.PROCESSED
    event.refresh_from_db()
    assert event.error == "" and event.message is not None
    assert event.message.text.startswith(case.text(1))
    # A second "process again" (two clicks) and a redelivery add nothing.
    assert pipeline.process_again(event) == InboundStatus.PROCESSED
    case.deliver(1)
    assert Message.objects.filter(channel=case.channel).count() == 1
