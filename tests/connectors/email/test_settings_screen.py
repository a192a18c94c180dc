"""An e-mail channel set up from the channels screen, then "Test settings" (EM-1, EM-7)."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.channels.models import Channel, ChannelKind
from tests.conftest import Tenant
from tests.connectors.email.conftest import ADDRESS, SMTP_PASSWORD, SMTP_USER, Mailbox
from tests.fakes.dovecot import PASSWORD
from tests.fakes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


def _form(mailbox: Mailbox, smtp_sink: SmtpSink, tenant: Tenant, **overrides: str) -> dict:
    return {
        "name": "Suporte", "service": tenant.service.pk, "address": ADDRESS,
        "in_protocol": "imap", "in_host": mailbox.server.host,
        "in_port": mailbox.server.imap_port, "in_security": "none",
        "in_username": mailbox.user, "in_password": PASSWORD, "in_folder": "INBOX",
        "smtp_host": smtp_sink.host, "smtp_port": smtp_sink.port, "smtp_security": "none",
        "smtp_username": SMTP_USER, "smtp_password": SMTP_PASSWORD, "poll_seconds": 60,
        "reopen_closed": "on", "auto_daily_cap": 3, **overrides,
    }


def test_a_mailbox_set_up_on_the_screen_passes_test_settings(
    admin_client: Client, tenant: Tenant, mailbox: Mailbox, smtp_sink: SmtpSink
) -> None:
    created = admin_client.post("/settings/channels/new/email/",
                                _form(mailbox, smtp_sink, tenant), follow=True)
    assert created.status_code == 200, created.content.decode()[:500]
    channel = Channel.objects.get(organization=tenant.org, kind=ChannelKind.EMAIL)
    assert PASSWORD not in str(channel.settings)

    tested = admin_client.post(f"/settings/channels/{channel.pk}/test/", follow=True)
    page = tested.content.decode()
    assert "connection works" in page, page[:2000]
    assert smtp_sink.deliveries, "the test message was not sent"


def test_a_wrong_password_is_named_by_test_settings(
    admin_client: Client, tenant: Tenant, mailbox: Mailbox, smtp_sink: SmtpSink
) -> None:
    admin_client.post("/settings/channels/new/email/",
                      _form(mailbox, smtp_sink, tenant, in_password="wrong"))
    channel = Channel.objects.get(organization=tenant.org, kind=ChannelKind.EMAIL)

    tested = admin_client.post(f"/settings/channels/{channel.pk}/test/", follow=True)
    page = tested.content.decode()
    assert "connection failed" in page
    assert "auth" in page.lower()
