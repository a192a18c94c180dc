"""The WhatsApp channel in its log: refused webhook calls are logged (rate-limited), and a
quarantined event is processed again through the connector's own receive path."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client

from atende.channels.models import Channel, InboundEvent, InboundStatus, RefusedWebhook
from atende.channels.refusals import KEEP, log_refused
from atende.tickets.models import Message
from atende.tickets.services import ingest_batch
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


def test_refused_calls_are_logged_at_most_once_a_minute(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks, admin_client: Client) -> None:
    # Keys outlive a test database in Redis (ids repeat between runs): start clean.
    cache.delete_many([f"refused-webhook:{wa_channel.pk}", f"refused-webhook-n:{wa_channel.pk}"])
    body = wa.customer_sends(CUSTOMER, "Oi")
    for _n in range(20):  # an attacker hammering the webhook
        assert webhooks.post(body, headers={"X-Atende-Webhook-Token": "guess"}).status_code \
            == 401
    assert RefusedWebhook.objects.filter(channel=wa_channel).count() == 1
    cache.delete(f"refused-webhook:{wa_channel.pk}")  # the minute has passed
    assert webhooks.post(body, headers={}).status_code == 401
    rows = list(RefusedWebhook.objects.filter(channel=wa_channel).order_by("at", "pk"))
    assert [(r.reason, r.skipped) for r in rows] == [("wrong secret", 0), ("missing secret", 19)]
    assert InboundEvent.objects.filter(channel=wa_channel).count() == 0

    page = admin_client.get(f"/settings/channels/{wa_channel.pk}/log/").content.decode()
    assert "Refused webhook calls" in page and "Wrong secret" in page
    assert "Missing secret" in page and "127.0.0.1" in page
    assert "(and 19 more calls in the minute before)" in page
    assert f"/whatsapp/{wa_channel.pk}/webhook" in page  # the URL the provider calls


def test_refused_log_keeps_the_latest_rows_only(wa_channel: Channel) -> None:
    cache.delete(f"refused-webhook-n:{wa_channel.pk}")
    for _n in range(KEEP + 5):
        cache.delete(f"refused-webhook:{wa_channel.pk}")
        assert log_refused(wa_channel, "203.0.113.9", "wrong secret")
    assert RefusedWebhook.objects.filter(channel=wa_channel).count() == KEEP


def test_quarantined_event_is_processed_again(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks, admin_client: Client,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_batch = ingest_batch.contacts_by_identity

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    # The set-based run fails, and so does its redo one by one.
    monkeypatch.setattr(ingest_batch, "contacts_by_identity", locked)
    assert webhooks.post(wa.customer_sends(CUSTOMER, "Oi, tudo bem?")).status_code == 200
    event = InboundEvent.objects.get(channel=wa_channel)
    assert event.status == InboundStatus.QUARANTINED
    page = admin_client.get(f"/settings/channels/{wa_channel.pk}/log/").content.decode()
    assert "temporary failure" in page and "Show the payload" in page
    detail = admin_client.get(f"/settings/channels/{wa_channel.pk}/log/{event.pk}/")
    assert "Oi, tudo bem?" in detail.content.decode()

    monkeypatch.setattr(ingest_batch, "contacts_by_identity", real_batch)
    url = f"/settings/channels/{wa_channel.pk}/log/{event.pk}/reprocess/"
    assert admin_client.post(url).status_code == 302
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED and event.message is not None
    assert event.message.text == "Oi, tudo bem?"
    admin_client.post(url)  # idempotent
    assert Message.objects.filter(channel=wa_channel).count() == 1


def test_unreadable_body_kept_and_shown_escaped(wa: FakeDialog360, wa_channel: Channel,
                                                 webhooks: Webhooks,
                                                 admin_client: Client) -> None:
    response = webhooks.post("<script>alert(1)</script>")
    assert response.status_code == 400
    event = InboundEvent.objects.get(channel=wa_channel)
    page = admin_client.get(f"/settings/channels/{wa_channel.pk}/log/{event.pk}/")
    html = page.content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "could not be read" in html
