"""Raw mail → ParsedMail → InboundMessage: threading keys, loops, DSN, hostile details."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from typing import Any

import pytest

from atende.connectors.email import thread_keys
from atende.connectors.email.inbound import parse, to_inbound
from tests.connectors.email.conftest import ADDRESS, customer_mail


def test_plain_mail_gives_sender_subject_text_and_message_id() -> None:
    parsed = parse(customer_mail(message_id="<abc@example.com>"), ADDRESS)
    assert parsed.sender == "maria@example.com"
    assert parsed.sender_name == "Maria Souza"
    assert parsed.subject == "Pedido atrasado"
    assert parsed.text.strip() == "Meu pedido não chegou."
    assert parsed.message_id == "abc@example.com"
    assert not parsed.no_auto_reply


def test_reply_keys_most_specific_first() -> None:
    # The mail answered, the mail itself (a reply to it may have come first), then the
    # References from the newest back to the root.
    raw = customer_mail(In_Reply_To="<c@x>", References="<a@x> <b@x> <c@x>",
                        message_id="<d@x>")
    inbound = to_inbound(parse(raw, ADDRESS), 1, own_address=ADDRESS)
    assert inbound.thread_keys == ("c@x", "d@x", "b@x", "a@x")
    assert inbound.ticket_number is None


def test_subject_token_and_plus_address_name_the_ticket() -> None:
    by_token = to_inbound(parse(customer_mail(subject="RES: [#TKT-000123] Pedido"), ADDRESS),
                          1, own_address=ADDRESS)
    assert by_token.ticket_number == 123
    assert by_token.subject == "[#TKT-000123] Pedido"
    by_plus = to_inbound(parse(customer_mail(to="suporte+TKT-000045@example.com"), ADDRESS),
                         1, own_address=ADDRESS)
    assert by_plus.ticket_number == 45
    # A plus-address of someone else's mailbox names nothing.
    other = to_inbound(parse(customer_mail(to="vendas+TKT-000045@example.com"), ADDRESS),
                       1, own_address=ADDRESS)
    assert other.ticket_number is None


def test_forwarded_mail_without_token_does_not_keep_references() -> None:
    raw = customer_mail(subject="Fwd: Pedido", References="<theirs@x>", In_Reply_To="<theirs@x>")
    inbound = to_inbound(parse(raw, ADDRESS), 1, own_address=ADDRESS)
    assert inbound.thread_keys == ()
    with_token = to_inbound(parse(customer_mail(subject="ENC: [#TKT-000007] x",
                                                References="<t@x>"), ADDRESS), 1,
                            own_address=ADDRESS)
    assert with_token.ticket_number == 7


def test_missing_message_id_gets_a_stable_hash() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["Subject"] = "sem id"
    msg["Date"] = "Mon, 02 Nov 2026 10:00:00 -0300"
    msg.set_content("corpo")
    first = parse(msg.as_bytes(), ADDRESS)
    msg["Received"] = "from relay by mx; Mon, 02 Nov 2026 10:00:01 -0300"
    again = parse(msg.as_bytes(), ADDRESS)
    assert first.generated_id and first.message_id.endswith("@atende.generated")
    assert first.message_id == again.message_id


@pytest.mark.parametrize(("headers", "reason"), [
    ({"Auto_Submitted": "auto-replied"}, "Auto-Submitted"),
    ({"Precedence": "bulk"}, "Precedence"),
    ({"X_Autoreply": "yes"}, "X-Autoreply"),
    ({"List_Id": "<news.example.com>"}, "List-Id"),
    ({"Return_Path": "<>"}, "Return-Path"),
    ({"X_Auto_Response_Suppress": "All"}, "X-Auto-Response-Suppress"),
])
def test_automatic_mail_is_never_auto_answered(headers: dict[str, str], reason: str) -> None:
    parsed = parse(customer_mail(**headers), ADDRESS)
    assert reason in parsed.no_auto_reply
    assert to_inbound(parsed, 1).metadata["no_auto_reply"] == parsed.no_auto_reply


def test_auto_submitted_no_and_ordinary_mail_may_be_answered() -> None:
    assert parse(customer_mail(Auto_Submitted="no"), ADDRESS).no_auto_reply == ""


def test_our_own_address_and_loop_header() -> None:
    own = parse(customer_mail(sender=ADDRESS), ADDRESS)
    assert own.no_auto_reply == "our own address"
    looped = parse(customer_mail(X_Atende_Loop=ADDRESS), ADDRESS)
    assert looped.our_loop


def dsn(original_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\nTo: suporte@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; nobody@example.org\r\nAction: failed\r\n"
        "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: suporte@example.com\r\nTo: nobody@example.org\r\nMessage-ID: <{original_id}>\r\n"
        "Subject: Re: [#TKT-000001] x\r\n\r\n--B--\r\n"
    ).encode()


def test_delivery_report_names_the_failed_mail_and_reason() -> None:
    parsed = parse(dsn("ours-1@example.com"), ADDRESS)
    assert parsed.report is not None
    assert parsed.report.original_ids == ("ours-1@example.com",)
    assert "5.1.1" in parsed.report.reason and "user unknown" in parsed.report.reason
    assert parsed.no_auto_reply
    assert "ours-1@example.com" in to_inbound(parsed, 1).thread_keys


def test_html_only_mail_gets_text_and_attachments_and_inline_images() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["Subject"] = "html"
    msg.set_content("<p>Ol&aacute; <b>mundo</b><img src='cid:logo'></p>", subtype="html")
    msg.add_related(b"\x89PNG fake", maintype="image", subtype="png", cid="<logo>")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                       filename="../../etc/passwd")
    parsed = parse(msg.as_bytes(), ADDRESS)
    assert "Olá" in parsed.text and "mundo" in parsed.text
    assert {a.content_type for a in parsed.attachments} == {"image/png", "application/pdf"}
    assert "../../etc/passwd" in [a.filename for a in parsed.attachments]  # cleaned at storage
    assert parsed.cids == {"logo": hashlib.sha256(b"\x89PNG fake").hexdigest()}


def test_reply_subject_keeps_one_token() -> None:
    assert thread_keys.reply_subject("RES: Re: [#TKT-000009] Pedido", 9) == \
        "Re: [#TKT-000009] Pedido"
    assert thread_keys.reply_subject("Pedido", 12) == "Re: [#TKT-000012] Pedido"


def test_notes_about_refused_parts_reach_the_html_the_timeline_shows(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["Subject"] = "big"
    msg.set_content("corpo")
    msg.add_alternative("<p>corpo <b>html</b></p>", subtype="html")
    msg.add_attachment(b"x" * (2 * 1024 * 1024), maintype="application", subtype="zip",
                       filename="big<b>.zip")
    parsed = parse(msg.as_bytes(), ADDRESS)
    assert "big<b>.zip" in parsed.text and "(2 MB)" in parsed.text
    assert "big&lt;b&gt;.zip" in parsed.html and "(2 MB)" in parsed.html
