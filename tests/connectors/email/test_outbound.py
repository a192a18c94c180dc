"""Agents' answers leave by SMTP (a real aiosmtpd server) and thread in the customer's
client; the customer's reply comes back into the same ticket (round trip through Dovecot)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import timezone

from atende.channels.models import Channel
from atende.connectors.email.compose import Draft, references_chain
from atende.connectors.email.imap import poll_imap
from atende.connectors.email.outbound import send_automatic
from atende.connectors.email.receive import receive
from atende.tickets.models import DeliveryStatus, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import NewAttachment, post_message
from atende.tickets.services.sending import send_queued_message
from tests.conftest import Tenant
from tests.connectors.email.conftest import (
    ADDRESS,
    SMTP_USER,
    Mailbox,
    customer_mail,
    make_email_channel,
)
from tests.fakes.smtp_sink import SmtpSink


@pytest.fixture
def answer(tenant: Tenant, django_capture_on_commit_callbacks: Any) -> Callable[..., Message]:
    def send(ticket: Ticket, text: str = "Seu pedido sai hoje.", **kwargs: Any) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message = post_message(ticket, Actor(user=tenant.admin), text=text, **kwargs)
        message.refresh_from_db()
        return message

    return send


def ticket_from(channel: Channel, raw: bytes) -> Ticket:
    receipt = receive(channel, raw)
    return Message.objects.get(pk=receipt.message_id).ticket


def test_round_trip_customer_mail_answer_and_reply_thread(
        imap_channel: Channel, mailbox: Mailbox, smtp_sink: SmtpSink,
        answer: Callable[..., Message]) -> None:
    mailbox.append(customer_mail(subject="Pedido 123 atrasado",
                                 message_id="<c1@cliente.example>"))
    poll_imap(imap_channel)
    ticket = Ticket.objects.get()

    sent = answer(ticket, text="Olá Maria, seu pedido sai hoje.",
                  attachments=[NewAttachment("nota.pdf", "application/pdf", b"%PDF-1.4 x")])
    assert sent.delivery_status == DeliveryStatus.SENT, sent.failure_reason
    [delivery] = smtp_sink.deliveries
    assert delivery.rcpt_tos == ["maria@example.com"]
    mail = delivery.message()
    our_id = mail["Message-ID"].strip("<>")
    assert sent.external_id == our_id and our_id.endswith("@example.com")
    assert mail["In-Reply-To"] == "<c1@cliente.example>"
    assert mail["References"] == "<c1@cliente.example>"
    assert mail["Subject"] == f"Re: [#{ticket.protocol}] Pedido 123 atrasado"
    assert mail["From"].addresses[0].addr_spec == ADDRESS
    assert isinstance(mail, EmailMessage)
    assert "seu pedido sai hoje" in mail.get_body(("plain",)).get_content()
    assert "<p>" in mail.get_body(("html",)).get_content()
    [pdf] = list(mail.iter_attachments())
    assert pdf.get_filename() == "nota.pdf" and pdf.get_content() == b"%PDF-1.4 x"

    # The customer answers from their client: In-Reply-To our id, no token in the subject.
    mailbox.append(customer_mail(subject="Re: Pedido 123 atrasado",
                                 In_Reply_To=f"<{our_id}>",
                                 References=f"<c1@cliente.example> <{our_id}>"))
    poll_imap(imap_channel)
    assert Ticket.objects.count() == 1
    assert ticket.messages.filter(direction="inbound").count() == 2

    # A second answer references the whole chain.
    answer(ticket, text="Enviado.")
    second = smtp_sink.deliveries[1].message()
    assert second["In-Reply-To"] != f"<{our_id}>"
    assert f"<{our_id}>" in second["References"]
    assert second["References"].startswith("<c1@cliente.example>")


def test_signature_is_added(tenant: Tenant, imap_channel: Channel, smtp_sink: SmtpSink,
                            answer: Callable[..., Message]) -> None:
    imap_channel.settings = {**imap_channel.settings, "signature_text": "Equipe Acme",
                             "signature_html": "<b>Equipe Acme</b>"}
    imap_channel.save()
    answer(ticket_from(imap_channel, customer_mail()))
    mail = smtp_sink.deliveries[0].message()
    assert mail.get_body(("plain",)).get_content().rstrip().endswith("Equipe Acme")
    assert "<b>Equipe Acme</b>" in mail.get_body(("html",)).get_content()


def test_temporary_smtp_failure_is_retried_then_sent(
        imap_channel: Channel, smtp_sink: SmtpSink, answer: Callable[..., Message]) -> None:
    smtp_sink.fail_next("451 4.3.0 try again later")
    message = answer(ticket_from(imap_channel, customer_mail()))
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert "451" in message.failure_reason
    Message.objects.filter(pk=message.pk).update(send_after=timezone.now() - timedelta(seconds=1))
    result = send_queued_message(message.pk)
    assert result is not None and result.ok
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert len(smtp_sink.deliveries) == 1


def test_permanent_smtp_failure_fails_the_message_with_the_reason(
        imap_channel: Channel, smtp_sink: SmtpSink, answer: Callable[..., Message]) -> None:
    smtp_sink.fail_next("554 5.7.1 message rejected as spam")
    message = answer(ticket_from(imap_channel, customer_mail()))
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "554" in message.failure_reason and "spam" in message.failure_reason


def test_unreachable_smtp_server_is_retryable(imap_channel: Channel,
                                              answer: Callable[..., Message]) -> None:
    imap_channel.settings = {**imap_channel.settings, "smtp_port": 1}
    imap_channel.save()
    message = answer(ticket_from(imap_channel, customer_mail()))
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert message.failure_reason.startswith("connect")


def test_wrong_smtp_password_fails_with_the_reason(imap_channel: Channel,
                                                   answer: Callable[..., Message]) -> None:
    imap_channel.secrets = {**imap_channel.secrets, "smtp_password": "wrong"}
    imap_channel.save()
    message = answer(ticket_from(imap_channel, customer_mail()))
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.failure_reason.startswith("auth")


def test_our_sent_mail_coming_back_is_dropped(imap_channel: Channel, smtp_sink: SmtpSink,
                                              answer: Callable[..., Message]) -> None:
    ticket = ticket_from(imap_channel, customer_mail())
    answer(ticket)
    receipt = receive(imap_channel, smtp_sink.deliveries[0].data)
    assert receipt.message_id is None  # our loop header: recognised, not added
    assert ticket.messages.count() == 2


def test_automatic_mail_carries_loop_headers_and_respects_the_daily_cap(
        imap_channel: Channel, smtp_sink: SmtpSink) -> None:
    imap_channel.settings = {**imap_channel.settings, "auto_daily_cap": 2}
    imap_channel.save()
    draft = Draft(to="maria@example.com", subject="Recebemos seu pedido", text="Obrigado.")
    results = [send_automatic(imap_channel, draft) for _ in range(3)]
    assert [r.ok for r in results] == [True, True, False]
    assert "cap" in results[2].error
    mail = smtp_sink.deliveries[0].message()
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Precedence"] == "bulk"
    # Another address has its own count.
    assert send_automatic(imap_channel, Draft(to="joao@example.com", subject="x",
                                              text="y")).ok


def test_long_reference_chains_keep_the_first_and_last_ten() -> None:
    ids = [f"id{n}@x" for n in range(30)]
    assert references_chain(ids) == ("id0@x", *ids[-10:])


def test_a_title_with_line_breaks_is_sent_with_a_one_line_subject(
        tenant: Tenant, smtp_sink: SmtpSink, answer: Callable[..., Message]) -> None:
    """A CR/LF in the ticket's title (edited by an agent, or from a channel that allows it)
    would make the Subject header invalid: every reply would stay queued, failing."""
    channel = make_email_channel(tenant, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
                                 smtp_security="none", smtp_username=SMTP_USER)
    ticket = ticket_from(channel, customer_mail())
    Ticket.objects.filter(pk=ticket.pk).update(subject="Pedido\r\nBcc: x@evil.example\n 123")
    ticket.refresh_from_db()
    sent = answer(ticket)
    assert sent.delivery_status == DeliveryStatus.SENT, sent.failure_reason
    [delivery] = smtp_sink.deliveries
    assert delivery.rcpt_tos == ["maria@example.com"]
    mail = delivery.message()
    assert mail["Subject"] == f"Re: [#{ticket.protocol}] Pedido Bcc: x@evil.example 123"
    assert mail["Bcc"] is None
    head = delivery.data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    [subject_line] = [line for line in head.split(b"\n") if line.startswith(b"Subject:")]
    assert b"123" in subject_line
