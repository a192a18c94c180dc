"""The widget's public endpoints: the script, sessions, messages in and out, isolation
between visitors and organisations, origins, abuse limits, files, and a failure mid-chat."""

from __future__ import annotations

import asyncio
import gzip
from contextlib import suppress
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.webchat import files, limits
from atende.connectors.webchat.inbound import visitor_digest
from atende.connectors.webchat.stream import VisitorFilter
from atende.connectors.webchat.visitors import identity_hash, read
from atende.connectors.webchat.widget import Widget
from atende.realtime.models import Event
from atende.tickets.models import Attachment, Direction, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import post_message
from tests.channels.test_every_connector import messages_refused
from tests.conftest import Tenant
from tests.connectors.webchat.conftest import Visitor, make_widget

pytestmark = pytest.mark.django_db
XSS = "<img src=x onerror=alert(1)>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_script_is_small_plain_and_loadable_from_any_site() -> None:
    response = Client().get("/widget/v1.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Access-Control-Allow-Origin"] == "*"
    body = b"".join(response) if response.streaming else response.content
    assert len(gzip.compress(body, 9)) <= 15 * 1024
    assert b"attachShadow({mode: \"open\"})" in body


def test_config_shows_appearance_and_no_secret(tenant: Tenant) -> None:
    channel = make_widget(tenant, identity_check=True)
    response = Visitor(channel).client.get(f"/widget/w/{channel.settings['public_id']}/config")
    data = response.json()
    assert data["colour"] == "#112233" and data["corner"] == "bottom-left"
    assert data["identity"] is True
    assert channel.secrets["identity_secret"] not in response.content.decode()
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"


def test_a_visitor_message_opens_a_chat_ticket_and_a_resend_is_one_entry(
        visitor: Visitor, widget: Channel) -> None:
    first = visitor.say("Oi, preciso de ajuda", client_id="m1")
    again = visitor.say("Oi, preciso de ajuda", client_id="m1")  # after a network drop
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    ticket = Ticket.objects.get(channel=widget)
    assert ticket.origin == "webchat" and ticket.subject.startswith("Chat")
    assert Message.objects.filter(ticket=ticket).count() == 1
    assert first.json()["position"] == 1  # nobody has taken it yet


def test_agent_answers_reach_the_visitor_but_notes_never(
        visitor: Visitor, widget: Channel, tenant: Tenant,
        django_capture_on_commit_callbacks: Any) -> None:
    visitor.say(XSS)
    ticket = Ticket.objects.get(channel=widget)
    tenant.admin.name = "Bruno Lima"
    tenant.admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        post_message(ticket, Actor(tenant.admin), text="Olá, sou o Bruno")
    post_message(ticket, Actor(tenant.admin), text="cliente difícil", internal=True)
    history = visitor.history().json()["messages"]
    assert [(m["from"], m["text"]) for m in history] == [
        ("visitor", XSS), ("agent", "Olá, sou o Bruno")]  # raw text: the widget shows text
    assert history[1]["author"] == "Bruno"
    reply = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND)
    assert reply.delivery_status == "sent"  # the connector's send recorded it


def _through(event_filter: VisitorFilter, events: list[Event]) -> list[Event]:
    async def run() -> list[Event]:
        out = []
        for event in events:
            shown = await event_filter(event)
            if shown is not None:
                out.append(shown)
        return out

    return asyncio.run(run())


@pytest.mark.django_db(transaction=True)  # the filter reads names in its own thread
def test_a_visitor_stream_carries_only_their_public_messages(
        widget: Channel, tenant: Tenant) -> None:
    ana, bia = Visitor(widget), Visitor(widget)
    ana.start()
    bia.start()
    start = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # Bia's stream opened before she wrote anything: it learns her ticket from the outbox.
    bia_key = read(bia.token, Widget(widget)).key
    bia_filter = VisitorFilter(widget.pk, visitor_digest(bia_key), None)
    ana.say("segredo da Ana")
    bia.say("oi")
    ana_ticket = Ticket.objects.get(thread_refs__key=read(ana.token, Widget(widget)).key)
    bia_ticket = Ticket.objects.get(thread_refs__key=bia_key)
    post_message(ana_ticket, Actor(tenant.admin), text="resposta para Ana")
    post_message(bia_ticket, Actor(tenant.admin), text="nota", internal=True)
    post_message(bia_ticket, Actor(tenant.admin), text="resposta para Bia")
    events = list(Event.objects.filter(pk__gt=start).order_by("pk"))
    shown = _through(bia_filter, events)
    texts = [e.payload.get("text") for e in shown if e.type == "message"]
    assert texts == ["oi", "resposta para Bia"]
    assert all("Ana" not in str(e.payload) for e in shown)
    assert {e.type for e in shown} <= {"message", "status", "typing"}


def test_changing_ids_never_reaches_another_conversation(
        widget: Channel, tenant: Tenant, other_tenant: Tenant) -> None:
    ana, mallory = Visitor(widget), Visitor(widget)
    ana.start()
    ana.say("meu CPF é 123")
    mallory.start()
    assert mallory.history().json()["messages"] == []
    forged = mallory.token[:-3] + ("AAA" if not mallory.token.endswith("AAA") else "BBB")
    mallory.token = forged
    assert mallory.history().status_code == 401
    # A valid token of another organisation's widget is refused here, and the reverse.
    elsewhere = Visitor(make_widget(other_tenant))
    elsewhere.start()
    elsewhere.base = ana.base
    assert elsewhere.history().status_code == 401
    stream = Client().get(f"{ana.base}stream", {"token": forged})
    assert stream.status_code == 401


def test_an_origin_off_the_allow_list_is_refused(tenant: Tenant) -> None:
    channel = make_widget(tenant, origins=["https://shop.example.com"])
    assert Visitor(channel).start().status_code == 200
    intruder = Visitor(channel, origin="https://evil.example.net")
    response = intruder.start()
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_the_honeypot_and_the_required_pre_chat_form(tenant: Tenant) -> None:
    channel = make_widget(tenant, prechat="required")
    v = Visitor(channel, language="en")
    assert v.start(name="Bot", email="b@x.io", website="http://spam").status_code == 400
    refused = v.start(name="Ana")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Please fill in your name and e-mail."
    assert v.start(name="Ana", email="ana@example.com").status_code == 200
    v.say("oi")
    assert "ana@example.com" in Ticket.objects.get(channel=channel).subject


def test_rate_limits_per_visitor(visitor: Visitor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "PER_VISITOR_MESSAGES", 3)
    codes = [visitor.say(f"m{n}").status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429]


def test_rate_limits_per_address_on_new_sessions(widget: Channel, settings: Any) -> None:
    settings.WIDGET_SESSIONS_PER_IP_MINUTE = 2
    codes = [Visitor(widget).start().status_code for _n in range(3)]
    assert codes == [200, 200, 429]


def test_signed_in_users_are_verified_and_see_their_history_on_any_device(
        tenant: Tenant) -> None:
    channel = make_widget(tenant, identity_check=True)
    secret = channel.secrets["identity_secret"]
    laptop, phone = Visitor(channel), Visitor(channel)
    good = identity_hash(secret, "user-7")
    assert laptop.start(user_id="user-7", user_hash=good).json()["verified"] is True
    laptop.say("pedido 55")
    assert phone.start(user_id="user-7", user_hash=good).status_code == 200
    assert [m["text"] for m in phone.history().json()["messages"]] == ["pedido 55"]
    impostor = Visitor(channel)
    assert impostor.start(user_id="user-7", user_hash="0" * 64).status_code == 403


def test_images_and_pdfs_are_taken_and_other_files_refused(
        visitor: Visitor, widget: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = visitor.upload("foto.png", PNG)
    assert ok.status_code == 201
    assert ok.json()["message"]["files"][0]["type"] == "image/png"
    assert Attachment.objects.filter(message__channel=widget, content_type="image/png").exists()
    fake = visitor.upload("nota.pdf", b"MZ\x90\x00 not a pdf")  # an executable renamed
    assert fake.status_code == 415
    monkeypatch.setattr(files, "MAX_BYTES", 32)
    big = visitor.upload("grande.png", PNG)
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "file_too_large"
    assert big.json()["error"]["message"].startswith("O arquivo tem mais de")


def test_a_message_that_fails_is_kept_and_the_resend_delivers_it_once(
        visitor: Visitor, widget: Channel) -> None:
    with messages_refused(), suppress(Exception):
        failed = visitor.say("não perca isto", client_id="keep-1")
        assert failed.status_code == 503
    [event] = InboundEvent.objects.filter(channel=widget)
    assert event.status == InboundStatus.QUARANTINED
    assert visitor.say("não perca isto", client_id="keep-1").status_code == 201
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    assert Message.objects.filter(channel=widget, text="não perca isto").count() == 1


def test_an_unknown_widget_and_a_missing_token(widget: Channel) -> None:
    assert Client().get("/widget/w/nonexistent-id/config").status_code == 404
    anonymous: Any = Visitor(widget)
    assert anonymous.history().status_code == 401
    assert anonymous.say("oi").status_code == 401


def test_outside_business_hours_the_offline_form_needs_an_address_and_becomes_a_ticket(
        tenant: Tenant) -> None:
    from atende.automation.models import BusinessCalendar

    closed = BusinessCalendar.objects.create(organization=tenant.org, name="Nunca",
                                             hours={})  # no open day
    channel = make_widget(tenant, prechat="off", business_calendar=closed)
    v = Visitor(channel, language="en")
    assert v.client.get(f"{v.base}config").json()["online"] is False
    assert v.start(name="Ana").status_code == 400  # the answer goes by e-mail
    assert v.start(name="Ana", email="ana@example.com").status_code == 200
    assert v.say("Quero trocar o produto").status_code == 201
    ticket = Ticket.objects.get(channel=channel)
    assert "ana@example.com" in ticket.subject
    always = make_widget(tenant)
    assert Visitor(always).client.get(
        f"/widget/w/{always.settings['public_id']}/config").json()["online"] is True
