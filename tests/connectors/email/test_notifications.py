"""E-mail notifications (EM-5) sent through a real SMTP server (aiosmtpd): the
acknowledgement of a new ticket, status changes, the answer reminder, resolution; with the
loop protections of EM-9 (auto-replies, `no_auto_reply` rules, the daily cap)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from atende.channels.models import Channel
from atende.connectors.email.models import (
    AutomaticMail,
    NotificationEvent,
    ProcessingRule,
    RuleField,
)
from atende.connectors.email.notifications import send_notification
from atende.connectors.email.receive import receive, receive_many
from atende.contacts.services import find_or_create_contact
from atende.tickets.models import AuditEntry, Direction, Message, Status, ThreadReference, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.create import open_ticket
from atende.tickets.services.reminders import send_due_reminders
from atende.tickets.services.replies import post_message
from atende.workspace.tracking import describe
from tests.conftest import Tenant
from tests.connectors.email.conftest import (
    ADDRESS,
    SMTP_USER,
    customer_mail,
    make_email_channel,
    turn_on,
)
from tests.fakes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(tenant: Tenant, smtp_sink: SmtpSink) -> Channel:
    return make_email_channel(tenant, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
                              smtp_security="none", smtp_username=SMTP_USER)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks: Any) -> Callable[..., Ticket]:
    """A customer's mail taken in, with the tasks its commit enqueues run."""
    def take_in(channel: Channel, raw: bytes) -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            receipt = receive(channel, raw)
        return Message.objects.get(pk=receipt.message_id).ticket

    return take_in


@pytest.fixture
def act(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def body(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_ticket_from_a_mail_is_acknowledged_threaded_and_in_the_timeline(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    ticket = deliver(channel, customer_mail(subject="Pedido atrasado",
                                            message_id="<c1@cliente.example>"))

    [delivery] = smtp_sink.deliveries
    assert delivery.rcpt_tos == ["maria@example.com"]
    mail = delivery.message()
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["In-Reply-To"] == "<c1@cliente.example>"
    assert mail["References"] == "<c1@cliente.example>"
    assert mail["Subject"] == (f"[#{ticket.protocol}] Recebemos sua mensagem: "
                               "Pedido atrasado")
    text = body(mail)
    assert "Olá Maria Souza" in text and ticket.protocol in text and "Acme" in text

    our_id = mail["Message-ID"].strip("<>")
    entry = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND)
    assert entry.external_id == our_id and entry.author_user is None
    assert entry.delivery_status == "sent"
    assert AutomaticMail.objects.get(message=entry).event == NotificationEvent.OPENED
    trail = AuditEntry.objects.get(ticket=ticket, action="notification_sent")
    assert trail.after["event"] == "opened" and trail.actor_user is None
    with translation.override("en"):
        assert describe(trail, {}) == "sent the automatic e-mail “Ticket opened”"
    assert ThreadReference.objects.filter(channel=channel, key=our_id, ticket=ticket).exists()
    # The automatic mail is not an agent's answer: no reminder clock, no first response.
    ticket.refresh_from_db()
    assert ticket.last_outbound_at is None and ticket.first_response_at is None

    # The customer answers the acknowledgement: same ticket, and no second acknowledgement.
    deliver(channel, customer_mail(subject=mail["Subject"], In_Reply_To=f"<{our_id}>"))
    assert Ticket.objects.count() == 1
    assert len(smtp_sink.deliveries) == 1


def test_the_organisations_language_picks_the_english_template(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket]) -> None:
    tenant.org.language = "en"
    tenant.org.save()
    turn_on(channel, NotificationEvent.OPENED, "pt-br", subject="Português")
    turn_on(channel, NotificationEvent.OPENED, "en")
    ticket = deliver(channel, customer_mail(subject="Late order"))
    mail = smtp_sink.deliveries[0].message()
    assert mail["Subject"] == f"[#{ticket.protocol}] We received your message: Late order"
    assert body(mail).startswith("Hello Maria Souza")
    assert AutomaticMail.objects.get().language == "en"


def test_a_batch_acknowledges_each_new_ticket_of_the_channels_that_send_it(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any) -> None:
    """The poller's batches: the "opened" notification is looked up once per batch, and only
    the channel that turned it on acknowledges (each of its new tickets, not the reply)."""
    turn_on(channel, NotificationEvent.OPENED)
    quiet = make_email_channel(tenant, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
                               smtp_security="none", smtp_username=SMTP_USER)
    mails = [customer_mail(subject="um", message_id="<b1@cliente.example>"),
             customer_mail(subject="dois"),
             customer_mail(subject="re", In_Reply_To="<b1@cliente.example>")]
    with (django_capture_on_commit_callbacks(execute=True),
          CaptureQueriesContext(connection) as queries):
        receive_many(channel, [(raw, "t") for raw in mails])
    assert sum("notificationtemplate" in q["sql"] for q in queries) == 1
    assert sorted(d.message()["Subject"].split("] ", 1)[1] for d in smtp_sink.deliveries) == [
        "Recebemos sua mensagem: dois", "Recebemos sua mensagem: um"]
    with django_capture_on_commit_callbacks(execute=True):
        receive_many(quiet, [(customer_mail(subject=f"q{n}", message_id=f"<q{n}@c.example>"),
                              "t") for n in range(3)])
    assert len(smtp_sink.deliveries) == 2
    assert Ticket.objects.filter(channel=quiet).count() == 3


def test_notifications_are_off_until_turned_on(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket]) -> None:
    deliver(channel, customer_mail())
    assert smtp_sink.deliveries == []
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"},
    {"Precedence": "list", "List_Id": "<clientes.lists.example>"},
    {"X_Autoreply": "yes"},
])
def test_no_acknowledgement_to_auto_replies_or_lists(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket],
        headers: dict[str, str]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    ticket = deliver(channel, customer_mail(subject="Fora do escritório", **headers))
    assert ticket.pk  # still taken in
    assert smtp_sink.deliveries == []


def test_no_acknowledgement_when_a_rule_says_never_answer(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    ProcessingRule.objects.create(organization=tenant.org, channel=channel, name="ERP",
                                  field=RuleField.FROM, value="erp@example.com",
                                  no_auto_reply=True)
    deliver(channel, customer_mail(sender="ERP <erp@example.com>"))
    assert smtp_sink.deliveries == []
    deliver(channel, customer_mail(sender="Joana <joana@example.com>"))
    assert [d.rcpt_tos for d in smtp_sink.deliveries] == [["joana@example.com"]]


def test_the_daily_cap_per_address_stops_acknowledgements(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket]) -> None:
    channel.settings["auto_daily_cap"] = 2
    channel.save()
    turn_on(channel, NotificationEvent.OPENED)
    for n in range(4):
        deliver(channel, customer_mail(subject=f"Pedido {n}"))
    assert Ticket.objects.count() == 4
    assert len(smtp_sink.deliveries) == 2
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 2


def test_status_changes_and_resolution_are_notified(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket], act: Callable[..., Any]) -> None:
    channel.settings["auto_daily_cap"] = 10
    channel.save()
    turn_on(channel, NotificationEvent.STATUS_CHANGED)
    turn_on(channel, NotificationEvent.RESOLVED)
    ticket = deliver(channel, customer_mail(subject="Nota fiscal",
                                            message_id="<nf@cliente.example>"))
    agent = Actor(user=tenant.admin)
    ticket = act(update_ticket, ticket, agent, status=Status.OPEN)
    assert smtp_sink.deliveries == []  # becoming open is not announced

    ticket = act(update_ticket, ticket, agent, status=Status.PENDING)
    [pending] = smtp_sink.deliveries
    mail = pending.message()
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Subject"] == (f"[#{ticket.protocol}] Seu chamado {ticket.protocol} "
                               "está agora: Pendente")
    assert "mudou para: Pendente" in body(mail)
    assert mail["In-Reply-To"] == "<nf@cliente.example>"

    ticket = act(update_ticket, ticket, agent, status=Status.RESOLVED)
    resolved = smtp_sink.deliveries[1].message()
    assert f"Seu chamado {ticket.protocol} foi resolvido" in resolved["Subject"]
    # References carry the earlier notification too: the thread holds together.
    assert pending.message()["Message-ID"] in resolved["References"]

    act(update_ticket, ticket, agent, status=Status.CLOSED)
    assert len(smtp_sink.deliveries) == 2  # closing a resolved ticket says nothing new
    events = list(AutomaticMail.objects.order_by("id").values_list("event", flat=True))
    assert events == ["status_changed", "resolved"]


def test_the_answer_reminder_is_sent_after_the_channels_delay(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket], act: Callable[..., Any]) -> None:
    channel.settings["answer_reminder_hours"] = 24
    channel.save()
    turn_on(channel, NotificationEvent.ANSWER_REMINDER)
    ticket = deliver(channel, customer_mail(subject="Troca de produto"))
    agent = Actor(user=tenant.admin)
    act(post_message, ticket, agent, text="Pode enviar a foto do produto?")
    ticket = act(update_ticket, Ticket.objects.get(pk=ticket.pk), agent, status=Status.PENDING)
    assert len(smtp_sink.deliveries) == 1  # the answer itself

    assert act(send_due_reminders, timezone.now() + timedelta(hours=23)) == 0
    assert act(send_due_reminders, timezone.now() + timedelta(hours=25)) == 1
    reminder = smtp_sink.deliveries[1].message()
    assert reminder["Subject"] == (f"[#{ticket.protocol}] Aguardamos sua resposta: "
                                   "Troca de produto")
    assert reminder["Auto-Submitted"] == "auto-generated"
    # In reply to the customer's mail, after our answer in the chain.
    answer_id = smtp_sink.deliveries[0].message()["Message-ID"]
    assert answer_id in reminder["References"]


def test_variables_are_filled_and_nothing_else_is_interpreted(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket]) -> None:
    tenant.admin.name = "Carla Dias"
    tenant.admin.save()
    # An encoded word hiding a line break: it must not become a header of our mail.
    hidden = base64.b64encode("Olá\r\nBcc: x@evil.example".encode()).decode()
    raw = customer_mail(subject="PLACEHOLDER").replace(
        b"PLACEHOLDER", f"=?utf-8?b?{hidden}?=".encode())
    ticket = deliver(channel, raw)  # acknowledged once the assignee is known (below)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=tenant.admin)
    turn_on(channel, NotificationEvent.OPENED,
            subject="{{ ticket.protocol }} {{ ticket.status }} {{ ticket.subject }}",
            body="{{contact.name}} / {{ agent.name }} / {{ service.name }} / "
                 "{{ ticket.subject.__class__ }} / {% load x %} / {{ settings.SECRET_KEY }}")
    assert send_notification(tenant.org.pk, ticket.pk, NotificationEvent.OPENED) == "sent"
    mail = smtp_sink.deliveries[0].message()
    assert mail["Subject"] == f"[#{ticket.protocol}] {ticket.protocol} Novo Olá Bcc: x@evil.example"
    assert mail["Bcc"] is None
    assert body(mail).strip() == ("Maria Souza / Carla Dias / Suporte / "
                                  "{{ ticket.subject.__class__ }} / {% load x %} / "
                                  "{{ settings.SECRET_KEY }}")


def test_a_ticket_an_agent_opened_gets_no_acknowledgement(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink, act: Callable[..., Any]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    contact = find_or_create_contact(tenant.org, "email", "maria@example.com", "Maria")
    act(open_ticket, organization=tenant.org, contact=contact, subject="Ligação",
        actor=Actor(user=tenant.admin), origin="email", channel=channel)
    assert smtp_sink.deliveries == []


def test_another_tenants_ticket_is_not_notified(
        tenant: Tenant, other_tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket]) -> None:
    ticket = deliver(channel, customer_mail())
    turn_on(channel, NotificationEvent.OPENED)
    assert send_notification(other_tenant.org.pk, ticket.pk, NotificationEvent.OPENED) \
        == "skipped"
    assert smtp_sink.deliveries == []


def test_an_smtp_refusal_shows_as_a_failed_automatic_message(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    smtp_sink.fail_next("550 5.1.1 mailbox unavailable")
    ticket = deliver(channel, customer_mail())
    entry = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND)
    assert entry.delivery_status == "failed" and "550" in entry.failure_reason
    assert AutomaticMail.objects.filter(message=entry).exists()


def test_our_own_address_is_never_notified(
        channel: Channel, smtp_sink: SmtpSink, deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    deliver(channel, customer_mail(sender=f"Suporte <{ADDRESS}>"))
    assert smtp_sink.deliveries == []


def test_the_timeline_tells_the_automatic_mail_from_an_answer(
        admin_client: Any, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket]) -> None:
    turn_on(channel, NotificationEvent.OPENED)
    ticket = deliver(channel, customer_mail())
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "sent the automatic e-mail “Ticket opened”" in page
    assert "Recebemos sua mensagem e abrimos o chamado" in page


def test_a_temporary_smtp_failure_is_tried_again_within_the_same_daily_count(
        tenant: Tenant, channel: Channel, smtp_sink: SmtpSink,
        deliver: Callable[..., Ticket]) -> None:
    channel.settings["auto_daily_cap"] = 1
    channel.save()
    ticket = deliver(channel, customer_mail())
    turn_on(channel, NotificationEvent.OPENED)
    smtp_sink.fail_next("451 4.3.0 try later")
    assert send_notification(tenant.org.pk, ticket.pk, NotificationEvent.OPENED) == "retry"
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    # The retry (attempt 2) is not refused by the cap the first attempt used.
    assert send_notification(tenant.org.pk, ticket.pk, NotificationEvent.OPENED, 2) == "sent"
    assert len(smtp_sink.deliveries) == 1
    assert Message.objects.get(direction=Direction.OUTBOUND).delivery_status == "sent"
