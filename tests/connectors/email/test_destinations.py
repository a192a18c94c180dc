"""The SSRF guard on mail servers: "Test settings", the poller and the sender connect only to
public addresses or to networks the operator allowed; a server that is not a mail server is
described in our words, never by what it sent; a silent one costs at most the time-out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from atende.channels.models import Channel
from atende.connectors.email import client, config
from atende.connectors.email.checks import check_settings
from atende.connectors.email.compose import Draft, compose, new_message_id
from atende.connectors.email.config import EmailSettings
from atende.connectors.email.models import MailboxState
from atende.connectors.email.outbound import deliver
from atende.connectors.email.polling import poll_channel
from atende.connectors.email.settings_form import EmailChannelForm
from atende.tickets.models import Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import Mailbox, customer_mail, make_email_channel
from tests.connectors.email.test_settings_form import valid_data
from tests.fakes.raw_server import RawServer
from tests.fakes.smtp_sink import SmtpSink

BANNER = b"220 localhost Python SMTP proxy secret-banner-7\r\n"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_test_settings_refuses_a_mail_server_on_the_servers_own_network(
        ssrf_guard: None, imap_channel: Channel, smtp_sink: SmtpSink) -> None:
    result = check_settings(imap_channel)
    assert (result.ok, result.step) == (False, "imap.blocked")
    assert "127.0.0.1 is a loopback address" in result.message
    assert "Only the operator of this Atende server can allow" in result.message
    assert smtp_sink.deliveries == []


def test_the_operator_may_allow_an_on_premises_mail_server(
        settings: Any, ssrf_guard: None, imap_channel: Channel, smtp_sink: SmtpSink) -> None:
    settings.ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    result = check_settings(imap_channel)
    assert result.ok, result.message
    assert len(smtp_sink.deliveries) == 1


def test_the_poller_does_not_connect_to_a_refused_server(
        ssrf_guard: None, imap_channel: Channel, mailbox: Mailbox) -> None:
    mailbox.append(customer_mail())
    assert poll_channel(imap_channel.pk) is None
    state = MailboxState.objects.get(channel=imap_channel)
    assert state.last_error.startswith("blocked: 127.0.0.1 is a loopback address")
    assert not Ticket.objects.exists()
    assert b"\\Seen" not in mailbox.flags()[0]  # still unread: nobody logged in


def test_the_sender_does_not_connect_to_a_refused_server(
        ssrf_guard: None, imap_channel: Channel, smtp_sink: SmtpSink) -> None:
    cfg = EmailSettings.of(imap_channel)
    mail = compose(cfg, Draft(to="ana@example.com", subject="Oi", text="Olá"),
                   new_message_id(cfg, "t"))
    result = deliver(cfg, mail, "ana@example.com", imap_channel)
    assert not result.ok and not result.retryable
    assert "loopback" in result.error
    assert smtp_sink.deliveries == []


@pytest.mark.parametrize(("protocol", "words"), [
    ("imap", "did not answer in IMAP"), ("pop3", "did not answer in POP3")])
def test_another_services_banner_is_never_repeated(
        tenant: Tenant, protocol: str, words: str) -> None:
    with RawServer(BANNER, speaks_first=True, hold_seconds=1) as server:
        channel = make_email_channel(tenant, in_protocol=protocol, in_host=server.host,
                                     in_port=server.port, in_security="none",
                                     in_username="u")
        result = check_settings(channel)
    assert result.step == f"{protocol}.connect"
    assert words in result.message
    assert "secret-banner" not in result.message and "220" not in result.message


def test_an_smtp_port_answering_something_else_is_not_repeated(
        tenant: Tenant, mailbox: Mailbox) -> None:
    with RawServer(b"* OK [CAPABILITY IMAP4rev1] secret-banner-8 ready\r\n",
                   speaks_first=True, hold_seconds=1) as server:
        channel = make_email_channel(
            tenant, in_host=mailbox.server.host, in_port=mailbox.server.imap_port,
            in_security="none", in_username=mailbox.user, smtp_host=server.host,
            smtp_port=server.port, smtp_security="none", smtp_username="u")
        result = check_settings(channel)
    assert result.step == "smtp.connect"
    assert "did not answer in SMTP" in result.message
    assert "secret-banner" not in result.message


def test_a_silent_server_costs_at_most_the_time_out(
        tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.TIMEOUT <= 10
    monkeypatch.setattr(client, "TIMEOUT", 1.0)  # the same path, a shorter wait
    with RawServer(b"", speaks_first=True, hold_seconds=5) as server:
        channel = make_email_channel(tenant, in_host=server.host, in_port=server.port,
                                     in_security="none", in_username="u")
        started = time.monotonic()
        result = check_settings(channel)
        elapsed = time.monotonic() - started
    assert result.step == "imap.connect"
    assert "no answer within 1 s" in result.message
    assert elapsed < 3


def test_the_reasons_are_translated(ssrf_guard: None, imap_channel: Channel) -> None:
    with translation.override("pt-br"):
        result = check_settings(imap_channel)
    assert "127.0.0.1 é um endereço de loopback" in result.message
    assert "Só o operador deste servidor Atende" in result.message


@pytest.mark.parametrize(("field", "host", "words"), [
    ("in_host", "127.0.0.1", "127.0.0.1 is a loopback address"),
    ("in_host", "0x7f.0.0.1", "unusual form"),
    ("smtp_host", "169.254.169.254", "link-local"),
    ("smtp_host", "[::ffff:10.0.0.1]", "private network"),
    ("in_host", "imap.example.com\r\nX", "without spaces or line breaks"),
])
def test_the_settings_form_refuses_a_server_on_a_private_network(
        ssrf_guard: None, tenant: Tenant, field: str, host: str, words: str) -> None:
    form = EmailChannelForm(tenant.org.pk, data=valid_data(tenant, **{field: host}))
    assert not form.is_valid()
    assert words in " ".join(form.errors[field])


def test_the_settings_form_accepts_an_allowed_network_and_unknown_names(
        settings: Any, ssrf_guard: None, tenant: Tenant) -> None:
    settings.ALLOWED_PRIVATE_NETWORKS = ["10.0.0.0/8"]
    form = EmailChannelForm(tenant.org.pk, data=valid_data(
        tenant, in_host="10.1.1.1", smtp_host="no-such-host.invalid"))
    assert form.is_valid(), form.errors
