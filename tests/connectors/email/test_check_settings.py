""""Test settings" against the real Dovecot and SMTP sink: OK, or exactly which step failed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from atende.channels.models import Channel
from atende.channels.registry import get_connector
from atende.connectors.email import checks
from tests.conftest import Tenant
from tests.connectors.email.conftest import ADDRESS, Mailbox, make_email_channel
from tests.fakes.processes import free_port
from tests.fakes.smtp_sink import SmtpSink


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_good_settings_log_in_and_send_a_test_message(imap_channel: Channel,
                                                      smtp_sink: SmtpSink) -> None:
    result = get_connector("email").test_connection(imap_channel)
    assert result.ok, result.message
    assert result.message == "Settings OK"
    [delivery] = smtp_sink.deliveries
    assert delivery.rcpt_tos == [ADDRESS]
    assert delivery.message()["Auto-Submitted"] == "auto-generated"


def test_pop3_settings_are_checked_too(tenant: Tenant, mailbox: Mailbox,
                                       smtp_sink: SmtpSink) -> None:
    channel = make_email_channel(
        tenant, in_protocol="pop3", in_host=mailbox.server.host,
        in_port=mailbox.server.pop3_port, in_security="none", in_username=mailbox.user,
        smtp_host=smtp_sink.host, smtp_port=smtp_sink.port, smtp_security="none",
        smtp_username="smtp-user")
    assert checks.check_settings(channel).ok
    channel.secrets = {"in_password": "wrong", "smtp_password": "smtp-pass"}
    channel.save()
    assert checks.check_settings(channel).step == "pop3.auth"


@pytest.mark.parametrize(("change", "secrets", "step", "words"), [
    ({"in_host": "no-such-host.invalid"}, None, "imap.dns", "DNS"),
    ({"in_port": "free"}, None, "imap.connect", "could not connect"),
    ({"in_security": "ssl"}, None, "imap.tls", "TLS"),
    ({}, {"in_password": "wrong"}, "imap.auth", "password"),
    ({"in_folder": "Arquivo"}, None, "imap.folder", "folder"),
    ({"smtp_port": "free"}, None, "smtp.connect", "Outgoing"),
    ({}, {"smtp_password": "wrong"}, "smtp.auth", "password"),
])
def test_each_failing_step_is_named(imap_channel: Channel, smtp_sink: SmtpSink,
                                    change: dict[str, Any], secrets: dict[str, str] | None,
                                    step: str, words: str) -> None:
    values = {k: (free_port() if v == "free" else v) for k, v in change.items()}
    imap_channel.settings = {**imap_channel.settings, **values}
    if secrets:
        imap_channel.secrets = {**imap_channel.secrets, **secrets}
    imap_channel.save()
    result = checks.check_settings(imap_channel)
    assert not result.ok
    assert result.step == step, result.message
    assert words in result.message
    if step.startswith("imap"):
        assert smtp_sink.deliveries == []


def test_failure_message_is_translated(imap_channel: Channel) -> None:
    imap_channel.secrets = {**imap_channel.secrets, "in_password": "wrong"}
    imap_channel.save()
    with translation.override("pt-br"):
        result = checks.check_settings(imap_channel)
    assert result.step == "imap.auth"
    assert "senha" in result.message
