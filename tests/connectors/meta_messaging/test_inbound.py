"""Every kind of Instagram item in: text, images, video, audio, files, story replies and
mentions (the link only), reactions, unsends, unsupported media shown as such, echoes of
the business's own messages as agent entries, reads as marks; duplicates and any order."""

from __future__ import annotations

import random

import pytest

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.contacts.models import ContactIdentity
from atende.tickets.models import Attachment, DeliveryStatus, Direction, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import post_message
from atende.tickets.services.sending import send_queued_message
from tests.conftest import Tenant
from tests.connectors.meta_messaging.conftest import Deliveries
from tests.fakes.meta_graph import CUSTOMER, FakeMetaGraph

pytestmark = pytest.mark.django_db


def reply(ticket: Ticket, tenant: Tenant, text: str) -> Message:
    """An agent's answer, sent (the on-commit send driven here)."""
    message = post_message(ticket, Actor(user=tenant.admin), text=text)
    result = send_queued_message(message.pk)
    assert result is not None and result.ok, result
    message.refresh_from_db()
    return message


def texts(channel: Channel) -> list[str]:
    return list(Message.objects.filter(channel=channel, direction=Direction.INBOUND)
                .order_by("created_at", "pk").values_list("text", flat=True))


def test_a_text_opens_a_ticket_with_the_instagram_identity_and_username(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries,
        tenant: Tenant) -> None:
    graph.customer_sends("Vocês entregam em Campinas?")
    assert deliveries.flush(ig_channel) == [200]
    message = Message.objects.get(channel=ig_channel)
    assert message.text == "Vocês entregam em Campinas?"
    identity = ContactIdentity.objects.get(organization=tenant.org, kind="instagram")
    assert identity.value == CUSTOMER
    assert identity.contact.name == "Maria Souza (@maria.souza)"
    assert message.ticket.channel == ig_channel


@pytest.mark.parametrize(("kind", "content_type"), [
    ("image", "image/png"), ("video", "video/mp4"), ("audio", "audio/mp4"),
    ("file", "application/pdf")])
def test_media_is_downloaded_in_processing(ig_channel: Channel, graph: FakeMetaGraph,
                                           deliveries: Deliveries, kind: str,
                                           content_type: str) -> None:
    url = graph.cdn(f"asset-{kind}", f"{kind} bytes".encode(), content_type)
    graph.customer_sends(attachments=[{"type": kind, "payload": {"url": url}}])
    deliveries.flush(ig_channel)
    [attachment] = Attachment.objects.filter(message__channel=ig_channel)
    assert attachment.content_type == content_type
    assert attachment.file.read() == f"{kind} bytes".encode()


def test_a_passing_download_failure_is_tried_again(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries) -> None:
    url = graph.cdn("photo", b"\x89PNG", "image/png")
    graph.media.pop("photo")  # the CDN answers 404: not retryable, shown as a note
    graph.customer_sends(attachments=[{"type": "image", "payload": {"url": url}}])
    deliveries.flush(ig_channel)
    assert "could not be downloaded" in texts(ig_channel)[0]


def test_story_mentions_and_replies_keep_the_link_not_the_media(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries) -> None:
    story = graph.cdn("story", b"story media", "image/jpeg")
    graph.customer_sends(attachments=[{"type": "story_mention", "payload": {"url": story}}])
    graph.customer_sends("amei!", reply_to={"story": {"id": "1798", "url": story}})
    deliveries.flush(ig_channel)
    mention, reply = texts(ig_channel)
    assert "Mentioned you in their story" in mention and story in mention
    assert reply.startswith("Replied to your story") and story in reply and "amei!" in reply
    assert not Attachment.objects.filter(message__channel=ig_channel).exists()
    assert ("GET", "cdn/story") not in graph.requests


def test_reactions_unsends_and_unsupported_types_are_shown_never_dropped(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries) -> None:
    first = graph.customer_sends("Oi")
    mid = first["message"]["mid"]
    graph.reaction(mid, "❤")
    graph.reaction(mid, action="unreact")
    graph.customer_sends(is_unsupported=True)
    graph.webhook(graph.item(message={"mid": mid, "is_deleted": True}))
    graph.webhook(graph.item(optin={"ref": "x"}))
    assert deliveries.flush(ig_channel) == [200] * 6
    shown = texts(ig_channel)
    assert shown[0] == "Oi"
    assert "Reacted ❤" in shown[1] and "Removed their reaction" in shown[2]
    assert "does not let Atende show" in shown[3]
    assert "unsent" in shown[4] and "optin" in shown[5]
    assert not InboundEvent.objects.filter(channel=ig_channel).exclude(
        status=InboundStatus.PROCESSED).exists()


def test_an_echo_from_the_instagram_app_is_an_agent_message_and_ours_is_not_repeated(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries,
        tenant: Tenant) -> None:
    graph.customer_sends("Oi")
    deliveries.flush(ig_channel)
    ticket = Ticket.objects.get(channel=ig_channel)
    reply(ticket, tenant, "Olá, Maria!")
    [ours] = graph.sent
    graph.webhook({"sender": {"id": graph.ig_id}, "recipient": {"id": CUSTOMER},
                   "timestamp": int(graph.now * 1000),
                   "message": {"mid": ours["message_id"], "text": "Olá, Maria!",
                               "is_echo": True}})
    graph.echo_from_app("Respondido pelo celular")
    deliveries.flush(ig_channel)
    outbound = list(Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND)
                    .order_by("pk").values_list("text", flat=True))
    assert outbound == ["Olá, Maria!", "Respondido pelo celular"]
    assert len(graph.sent) == 1  # the echo is never sent back


def test_a_read_marks_the_agents_messages(ig_channel: Channel, graph: FakeMetaGraph,
                                          deliveries: Deliveries, tenant: Tenant) -> None:
    graph.customer_sends("Oi")
    deliveries.flush(ig_channel)
    ticket = Ticket.objects.get(channel=ig_channel)
    first, second = reply(ticket, tenant, "Um"), reply(ticket, tenant, "Dois")
    graph.read(graph.sent[-1]["message_id"])
    deliveries.flush(ig_channel)
    for message in (first, second):
        message.refresh_from_db()
        assert message.delivery_status == DeliveryStatus.READ and message.read_at


def test_a_read_that_overtakes_its_message_waits_for_it(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries) -> None:
    graph.customer_sends("Oi")
    graph.read("aWdfZAG1faWQunknown")
    deliveries.flush(ig_channel)
    event = InboundEvent.objects.get(channel=ig_channel, provider_id__startswith="read:")
    assert event.status == InboundStatus.QUARANTINED
    assert event.error.startswith("NotYetKnown")


@pytest.mark.parametrize("seed", range(4))
def test_duplicates_and_any_order_give_one_entry_each_in_the_customers_order(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries,
        seed: int) -> None:
    graph.advance(-600)  # sent a while ago (a clock ahead of ours would be capped to now)
    for n in range(5):
        graph.customer_sends(f"mensagem {n}")
        graph.advance(2)
    order = list(range(5)) * 2
    random.Random(seed).shuffle(order)
    assert deliveries.flush(ig_channel, order=order) == [200] * 10
    assert texts(ig_channel) == [f"mensagem {n}" for n in range(5)]
    assert Ticket.objects.filter(channel=ig_channel).count() == 1
    assert InboundEvent.objects.filter(channel=ig_channel).count() == 5


def test_standby_items_and_messenger_pages_come_in_too(
        admin_client: object, tenant: Tenant, graph: FakeMetaGraph,
        deliveries: Deliveries) -> None:
    from tests.connectors.meta_messaging.conftest import connect

    channel = connect(admin_client, tenant, graph, kind="messenger")  # type: ignore[arg-type]
    graph.profiles["PSID77"] = {"first_name": "João", "last_name": "Lima"}
    graph.customer_sends("Olá pelo Messenger", sender="PSID77", obj="page")
    deliveries.flush(channel)
    message = Message.objects.get(channel=channel)
    identity = ContactIdentity.objects.get(kind="messenger", value="PSID77")
    assert message.text == "Olá pelo Messenger" and identity.contact.name == "João Lima"
    # An Instagram body on a Messenger channel is kept, quarantined.
    graph.customer_sends("errado", obj="instagram")
    deliveries.flush(channel)
    assert InboundEvent.objects.filter(channel=channel,
                                       status=InboundStatus.QUARANTINED).count() == 1
