"""Inbound e-mail on the ticket screen: inline images, remote images on request, the
quoted history folded, and the original .eml for agents of the organisation only."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import InboundEvent
from atende.connectors.email.receive import receive
from atende.tickets.models import Message
from tests.connectors.email.conftest import ADDRESS, make_email_channel

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def html_mail(message_id: str = "<html-1@example.com>") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Maria <maria@example.com>"
    msg["To"] = ADDRESS
    msg["Subject"] = "Foto do produto"
    msg["Message-ID"] = message_id
    msg.set_content("Veja a foto.")
    msg.add_alternative(
        "<p>Veja a foto <img src=\"cid:foto@maria\" alt=\"foto\"></p>"
        "<p><img src=\"https://cdn.example.org/banner.png\" alt=\"banner\"></p>"
        "<p>Em 2 de jun. de 2026, Suporte escreveu:</p><blockquote>Mande uma foto.</blockquote>",
        subtype="html")
    msg.get_payload()[1].add_related(PNG, maintype="image", subtype="png", cid="<foto@maria>")
    return msg.as_bytes()


@pytest.fixture
def received(tenant: Any) -> tuple[Message, bytes]:
    raw = html_mail()
    receipt = receive(make_email_channel(tenant), raw)
    assert receipt.message_id is not None
    return Message.objects.get(pk=receipt.message_id), raw


def test_inline_image_shows_from_the_stored_attachment(
        received: tuple[Message, bytes], admin_client: Client) -> None:
    message, _raw = received
    page = admin_client.get(f"/tickets/{message.ticket_id}/").content.decode()
    image = message.attachments.get()
    url = f"/attachments/{image.pk}/?inline=1"
    assert f'src="{url}"' in page
    assert page.count(url) == 1  # shown in the body, not listed again as a file
    served = admin_client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG  # type: ignore[attr-defined]


def test_remote_image_is_held_back_until_the_agent_asks_for_it(
        received: tuple[Message, bytes], admin_client: Client) -> None:
    message, _raw = received
    response = admin_client.get(f"/tickets/{message.ticket_id}/")
    page = response.content.decode()
    assert ' src="https://cdn.example.org/banner.png"' not in page
    assert 'data-remote-src="https://cdn.example.org/banner.png"' in page
    assert "cdn.example.org" not in response["Content-Security-Policy"]
    assert f"?images={message.pk}#message-{message.pk}" in page and "Show images" in page

    allowed = admin_client.get(f"/tickets/{message.ticket_id}/?images={message.pk}")
    page = allowed.content.decode()
    assert 'src="https://cdn.example.org/banner.png"' in page and "Show images" not in page
    img_src = next(d for d in allowed["Content-Security-Policy"].split(";") if "img-src" in d)
    assert img_src.split() == ["img-src", "'self'", "data:", "https://cdn.example.org"]
    assert f"live/?images={message.pk}" in page  # the live refresh keeps them shown
    live = admin_client.get(f"/tickets/{message.ticket_id}/live/?images={message.pk}")
    assert 'src="https://cdn.example.org/banner.png"' in live.content.decode()


def test_quoted_history_is_folded(received: tuple[Message, bytes],
                                  admin_client: Client) -> None:
    message, _raw = received
    page = admin_client.get(f"/tickets/{message.ticket_id}/").content.decode()
    head, _sep, folded = page.partition('<details class="quoted">')
    assert "Veja a foto" in head and "escreveu" not in head and "Mande uma foto." not in head
    assert "Mande uma foto." in folded.split("</details>")[0]


def test_original_mail_downloads_for_its_organisation_only(
        received: tuple[Message, bytes], admin_client: Client, other_tenant: Any) -> None:
    message, raw = received
    page = admin_client.get(f"/tickets/{message.ticket_id}/").content.decode()
    url = f"/messages/{message.pk}/original.eml"
    assert f'href="{url}"' in page
    response = admin_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "message/rfc822"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == raw  # type: ignore[attr-defined]

    stranger = Client()
    stranger.force_login(other_tenant.admin)
    assert stranger.get(url).status_code == 404
    assert Client().get(url).status_code in (302, 403)


def test_messages_without_a_stored_mail_have_no_download(
        tenant: Any, admin_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket(tenant.org, text="Olá")
    message = ticket.messages.get()
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "original.eml" not in page and "Olá" in page
    assert admin_client.get(f"/messages/{message.pk}/original.eml").status_code == 404


def test_only_stored_mail_of_an_email_message_is_served(
        tenant: Any, admin_client: Client, make_ticket: Any,
        received: tuple[Message, bytes]) -> None:
    mail, _raw = received
    stored = InboundEvent.objects.get(message=mail).payload["raw"]
    other = make_ticket(tenant.org, text="via API").messages.get()
    InboundEvent.objects.create(organization=tenant.org, channel=mail.channel,
                                provider_id="x-1", payload={"raw": stored}, message=other)
    assert admin_client.get(f"/messages/{other.pk}/original.eml").status_code == 404
    InboundEvent.objects.filter(message=mail).update(
        payload={"raw": f"email/raw/{tenant.org.pk}/../../../etc/passwd"})
    assert admin_client.get(f"/messages/{mail.pk}/original.eml").status_code == 404


def test_screen_queries_do_not_grow_with_mail_count(
        tenant: Any, admin_client: Client, django_assert_max_num_queries: Any) -> None:
    channel = make_email_channel(tenant)
    first = receive(channel, html_mail("<q-1@example.com>"))
    ticket_id = Message.objects.get(pk=first.message_id).ticket_id
    token = Message.objects.get(pk=first.message_id).ticket.protocol
    with django_assert_max_num_queries(40) as baseline:
        admin_client.get(f"/tickets/{ticket_id}/")
    for n in range(5):
        receive(channel, html_mail(f"<q-{n + 2}@example.com>").replace(
            b"Subject: Foto do produto", f"Subject: Re: [#{token}] Foto".encode()))
    assert Message.objects.filter(ticket_id=ticket_id).count() == 6
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        admin_client.get(f"/tickets/{ticket_id}/")


def test_original_mail_is_404_for_an_agent_who_may_not_see_its_ticket(
        received: tuple[Message, bytes], tenant: Any, make_agent: Any) -> None:
    from atende.tickets.services.actor import Actor
    from atende.tickets.services.changes import update_ticket

    message, _raw = received
    carla, client = make_agent(tenant.org, "carla@example.com")
    url = f"/messages/{message.pk}/original.eml"
    assert client.get(url).status_code == 404
    update_ticket(message.ticket, Actor(user=tenant.admin), assignee=carla)
    assert client.get(url).status_code == 200
