"""EM-6: the channel's rich-text signature. Sanitised on save, images uploaded to the channel
and sent inline as CID parts (checked on the mail a real SMTP server received), a text
rendering for the plain part, the live preview, and other tenants kept out."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.models import SignatureImage
from atende.connectors.email.receive import receive
from atende.connectors.email.signature import (
    SignatureRefused,
    html_to_text,
    prepare,
    save_signature,
)
from atende.tickets.models import DeliveryStatus, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import NewAttachment, post_message
from tests.conftest import Tenant
from tests.connectors.email.conftest import SMTP_USER, customer_mail, make_email_channel, png
from tests.fakes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


def page(channel: Channel) -> str:
    return f"/settings/channels/{channel.pk}/signature/"


def upload(client: Client, channel: Channel, data: bytes, name: str = "logo.png",
           content_type: str = "image/png") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"{page(channel)}images/",
                       {"image": SimpleUploadedFile(name, data, content_type=content_type)})


@pytest.fixture
def smtp_channel(tenant: Tenant, smtp_sink: SmtpSink) -> Channel:
    return make_email_channel(tenant, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
                              smtp_security="none", smtp_username=SMTP_USER)


@pytest.fixture
def answer(tenant: Tenant, django_capture_on_commit_callbacks: Any) -> Callable[..., Message]:
    def send(ticket: Ticket, **kwargs: Any) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message = post_message(ticket, Actor(user=tenant.admin),
                                   text="Seu pedido sai hoje.", **kwargs)
        message.refresh_from_db()
        return message

    return send


# Sanitising -------------------------------------------------------------------------------

def test_sanitising_removes_scripts_handlers_and_style_urls_and_keeps_allowed_styles(
        email_channel: Channel) -> None:
    signature = prepare(email_channel, (
        '<p style="text-align: center; color: #e60000; position: fixed; '
        'background-image: url(https://evil.example/x.png)">'
        '<strong style="font-size: 18px">Ana</strong> <span style="color: url(x)">Lima</span>'
        '<span style="background-color: rgb(255, 255, 0); font-style: italic; '
        'text-decoration: underline; font-weight: 700">Suporte</span>'
        '</p><script>alert(2)</script>'
        '<a href="javascript:alert(3)" onclick="x()">site</a>'
        '<a href="https://acme.example">acme</a>'
    ))
    html = signature.html.replace(" ", "")  # nh3 writes declarations compactly
    assert "script" not in html and "alert" not in html and "onclick" not in html
    assert "url(" not in html and "position" not in html and "evil" not in html
    assert "text-align:center" in html and "color:#e60000" in html
    assert "font-size:18px" in html and "<strong" in html
    assert "background-color:rgb(255,255,0)" in html and "font-style:italic" in html
    assert "text-decoration:underline" in html and "font-weight:700" in html
    assert 'href="https://acme.example"' in html and "javascript" not in html


def test_onerror_on_an_image_is_removed(admin_client: Client, email_channel: Channel) -> None:
    url = upload(admin_client, email_channel, png()).json()["url"]
    signature = prepare(email_channel, f'<p><img src="{url}" onerror="alert(1)"></p>',
                        f"{page(email_channel)}images/")
    assert "onerror" not in signature.html
    assert re.search(r'src="cid:sig-\d+"', signature.html)


def test_remote_images_are_refused_with_a_reason(email_channel: Channel) -> None:
    with pytest.raises(SignatureRefused) as refused:
        prepare(email_channel, '<p><img src="https://tracker.example/logo.png"></p>')
    assert "upload the image" in refused.value.errors[0]


def test_text_rendering_of_the_signature() -> None:
    text = html_to_text(
        '<p><strong>Ana Lima</strong> | Suporte</p><p style="text-align: center">'
        '<a href="https://acme.example">Nosso site</a><br>'
        '<a href="mailto:ana@acme.example">ana@acme.example</a></p><p><br></p>'
        '<p><img src="cid:sig-1" alt="Acme"> Tel.&nbsp;11 4000-0000</p>')
    assert text == ("Ana Lima | Suporte\nNosso site <https://acme.example>\n"
                    "ana@acme.example\n\n[Acme] Tel. 11 4000-0000")


# Images -----------------------------------------------------------------------------------

def test_image_upload_accepts_png_jpeg_gif_and_refuses_the_rest(
        admin_client: Client, email_channel: Channel) -> None:
    ok = upload(admin_client, email_channel, png())
    assert ok.status_code == 201, ok.content
    image = SignatureImage.objects.get()
    assert image.organization_id == email_channel.organization_id
    assert image.content_type == "image/png"
    assert image.storage_name.startswith(
        f"email_signatures/{email_channel.organization_id}/{email_channel.pk}/")
    assert ok.json()["url"] == f"{page(email_channel)}images/{image.pk}/"
    shown = admin_client.get(ok.json()["url"])
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content) == png()  # type: ignore[attr-defined]

    assert upload(admin_client, email_channel, b"GIF89a" + b"\0" * 20, "a.gif",
                  "image/gif").status_code == 201
    assert upload(admin_client, email_channel, b"\xff\xd8\xff\xe0" + b"\0" * 20, "a.jpg",
                  "image/jpeg").status_code == 201

    too_big = upload(admin_client, email_channel, png() + b"\0" * (1024 * 1024))
    assert too_big.status_code == 400 and "1 MB" in too_big.json()["error"]
    svg = upload(admin_client, email_channel, b"<svg onload='alert(1)'/>", "x.png")
    assert svg.status_code == 400 and "PNG, JPEG and GIF" in svg.json()["error"]
    empty = upload(admin_client, email_channel, b"")
    assert empty.status_code == 400
    missing = admin_client.post(f"{page(email_channel)}images/", {})
    assert missing.status_code == 400 and missing.json()["error"]
    assert SignatureImage.objects.count() == 3


def test_saving_from_the_editor_stores_cid_references_text_and_images(
        admin_client: Client, email_channel: Channel) -> None:
    url = upload(admin_client, email_channel, png()).json()["url"]
    pasted = "data:image/png;base64," + base64.b64encode(png(10)).decode()
    saved = admin_client.post(page(email_channel), {"signature_html": (
        f'<p><strong>Ana Lima</strong></p><p><img src="{url}"><img src="{pasted}"></p>')})
    assert saved.status_code == 302, saved.content.decode()[:2000]

    email_channel.refresh_from_db()
    cfg = EmailSettings.of(email_channel)
    refs = re.findall(r'src="cid:(sig-\d+)"', cfg.signature_html)
    assert len(refs) == 2 and "data:" not in cfg.signature_html and url not in \
        cfg.signature_html
    assert {i.cid for i in cfg.signature_images} == set(refs)
    assert cfg.signature_text == "Ana Lima"
    # The pasted image became a stored image of the channel.
    assert SignatureImage.objects.filter(channel=email_channel).count() == 2
    assert sorted(i.read() for i in cfg.signature_images) == sorted([png(), png(10)])

    reloaded = admin_client.get(page(email_channel)).content.decode()
    assert f'src="{url}"' in reloaded and "Ana Lima" in reloaded


def test_a_refused_signature_is_not_saved_and_says_why(
        admin_client: Client, email_channel: Channel) -> None:
    refused = admin_client.post(page(email_channel), {
        "signature_html": '<p>Ana<img src="http://tracker.example/p.gif"></p>'})
    assert refused.status_code == 400
    assert "upload the image" in refused.content.decode()
    email_channel.refresh_from_db()
    assert not email_channel.settings.get("signature_html")


def test_unused_images_are_deleted_a_day_later(email_channel: Channel,
                                               django_capture_on_commit_callbacks: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from atende.connectors.email.signature_images import store_image

    kept, old, recent = (store_image(email_channel, png(n)) for n in (1, 2, 3))
    SignatureImage.objects.filter(pk__in=[kept.pk, old.pk]).update(
        created_at=timezone.now() - timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        save_signature(email_channel, f'<p><img src="cid:sig-{kept.pk}"></p>')
    assert set(SignatureImage.objects.values_list("pk", flat=True)) == {kept.pk, recent.pk}
    assert not default_storage.exists(old.storage_name)
    assert default_storage.exists(kept.storage_name)


# Outbound ---------------------------------------------------------------------------------

def test_answers_carry_the_signature_images_inline_as_cid(
        tenant: Tenant, smtp_channel: Channel, smtp_sink: SmtpSink,
        answer: Callable[..., Message]) -> None:
    from atende.connectors.email.signature_images import store_image

    logo = store_image(smtp_channel, png())
    save_signature(smtp_channel, f'<p><strong>Equipe Acme</strong></p>'
                                 f'<p><img src="cid:sig-{logo.pk}" alt="Acme"></p>')
    smtp_channel.refresh_from_db()
    ticket = Message.objects.get(pk=receive(smtp_channel, customer_mail()).message_id).ticket

    sent = answer(ticket, attachments=[NewAttachment("nota.pdf", "application/pdf", b"%PDF")])
    assert sent.delivery_status == DeliveryStatus.SENT, sent.failure_reason
    [delivery] = smtp_sink.deliveries
    mail = delivery.message()
    assert mail.get_content_type() == "multipart/mixed"
    alternative = mail.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().replace("\r\n", "\n").rstrip().endswith(
        "\n-- \nEquipe Acme\n[Acme]")
    assert related.get_content_type() == "multipart/related"
    html_part, image_part = related.get_payload()
    cid = image_part["Content-ID"].strip("<>")
    assert cid.startswith(f"sig-{logo.pk}.") and cid.endswith("@example.com")
    assert image_part.get_content_type() == "image/png"
    assert image_part.get_content_disposition() == "inline"
    assert image_part.get_content() == png()
    html = html_part.get_content()
    assert re.findall(r'src="cid:([^"]+)"', html) == [cid]
    assert "<strong>Equipe Acme</strong>" in html
    assert [p.get_filename() for p in mail.iter_attachments()] == ["nota.pdf"]


def test_automatic_mail_carries_the_signature_image_too(
        smtp_channel: Channel, smtp_sink: SmtpSink) -> None:
    from atende.connectors.email.compose import Draft
    from atende.connectors.email.outbound import send_automatic
    from atende.connectors.email.signature_images import store_image

    logo = store_image(smtp_channel, png())
    save_signature(smtp_channel, f'<p>Acme<img src="cid:sig-{logo.pk}"></p>')
    smtp_channel.refresh_from_db()
    result = send_automatic(smtp_channel, Draft(to="maria@example.com", subject="Recebemos",
                                                text="Recebemos seu pedido."))
    assert result.ok, result.error
    mail = smtp_sink.deliveries[0].message()
    assert mail.get_content_type() == "multipart/alternative"
    related = mail.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    cid = related.get_payload()[1]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in related.get_payload()[0].get_content()


def test_a_lost_image_file_does_not_stop_the_channels_mail(
        smtp_channel: Channel, smtp_sink: SmtpSink) -> None:
    from atende.connectors.email.compose import Draft
    from atende.connectors.email.outbound import send_automatic
    from atende.connectors.email.signature_images import store_image

    logo = store_image(smtp_channel, png())
    save_signature(smtp_channel, f'<p>Acme<img src="cid:sig-{logo.pk}"></p>')
    smtp_channel.refresh_from_db()
    default_storage.delete(logo.storage_name)
    result = send_automatic(smtp_channel, Draft(to="maria@example.com", subject="Recebemos",
                                                text="Recebemos seu pedido."))
    assert result.ok, result.error
    mail = smtp_sink.deliveries[0].message()
    html = mail.get_body(("html",)).get_content()
    assert "Acme" in html and "<img" not in html
    assert not any(p.get_content_maintype() == "image" for p in mail.walk())


def test_a_signature_has_at_most_ten_images(email_channel: Channel) -> None:
    from atende.connectors.email.signature_images import store_image

    images = "".join(f'<img src="cid:sig-{store_image(email_channel, png(n)).pk}">'
                     for n in range(11))
    with pytest.raises(SignatureRefused) as refused:
        prepare(email_channel, f"<p>{images}</p>")
    assert "at most 10 images" in refused.value.errors[0]


# Preview ----------------------------------------------------------------------------------

def test_preview_shows_the_mail_with_the_unsaved_signature(
        admin_client: Client, email_channel: Channel) -> None:
    url = upload(admin_client, email_channel, png()).json()["url"]
    response = admin_client.post(f"{page(email_channel)}preview/", {
        "signature_html": f'<p><em>Ana Lima</em><script>x()</script></p><p><img src="{url}"></p>'})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'sandbox=""' in body and "srcdoc=" in body
    # The srcdoc is the composed HTML, escaped into the attribute; the image inlined.
    assert "&lt;em&gt;Ana Lima&lt;/em&gt;" in body and "script" not in body
    assert "data:image/png;base64," + base64.b64encode(png()).decode() in body
    assert "Your order left our warehouse" in body and "-- \nAna Lima" in body
    email_channel.refresh_from_db()
    assert not email_channel.settings.get("signature_html"), "a preview stores nothing"


def test_preview_names_what_is_wrong(admin_client: Client, email_channel: Channel) -> None:
    response = admin_client.post(f"{page(email_channel)}preview/", {
        "signature_html": '<p><img src="https://tracker.example/p.gif"></p>'})
    assert response.status_code == 200
    assert "upload the image" in response.content.decode()


def test_the_channel_edit_page_links_to_the_signature_editor(
        admin_client: Client, email_channel: Channel) -> None:
    edit = admin_client.get(f"/settings/channels/{email_channel.pk}/").content.decode()
    assert f'href="{page(email_channel)}"' in edit
    editor = admin_client.get(page(email_channel))
    assert editor.status_code == 200
    assert "vendor/quill/quill.js" in editor.content.decode()


# Tenants ----------------------------------------------------------------------------------

def test_another_organisations_signature_and_images_are_not_found(
        admin_client: Client, email_channel: Channel, other_tenant: Tenant) -> None:
    from atende.connectors.email.signature_images import store_image

    theirs = make_email_channel(other_tenant)
    their_image = store_image(theirs, png())
    base = page(theirs)
    assert admin_client.get(base).status_code == 404
    assert admin_client.post(base, {"signature_html": "<p>x</p>"}).status_code == 404
    assert admin_client.post(f"{base}preview/", {"signature_html": "x"}).status_code == 404
    assert upload(admin_client, theirs, png()).status_code == 404
    assert admin_client.get(f"{base}images/{their_image.pk}/").status_code == 404
    # Nor through our own channel's address.
    assert admin_client.get(
        f"{page(email_channel)}images/{their_image.pk}/").status_code == 404
    # Nor by naming it in our signature: it is refused, never attached to our mail.
    with pytest.raises(SignatureRefused):
        prepare(email_channel, f'<p><img src="cid:sig-{their_image.pk}"></p>')
    assert SignatureImage.objects.filter(channel=theirs).count() == 1
    theirs.refresh_from_db()
    assert not theirs.settings.get("signature_html")
