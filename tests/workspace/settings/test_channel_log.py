"""The channel log: inbound events with their reasons, filters and keyset paging, the raw
event (.eml / JSON), "process again", the channel health and the quarantine badge."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.email.models import MailboxState
from atende.connectors.email.receive import receive
from atende.tenancy.models import Membership, Role, User
from atende.tickets.models import Message, Ticket
from atende.tickets.services import ingest_batch
from tests.conftest import Tenant
from tests.connectors.email import hostile
from tests.connectors.email.conftest import customer_mail, make_email_channel

pytestmark = pytest.mark.django_db
ROW = re.compile(r'<tr class="event-(\w+)">')


def log_url(channel: Channel, suffix: str = "") -> str:
    return f"/settings/channels/{channel.pk}/log/{suffix}"


@pytest.fixture
def channel(tenant: Tenant) -> Channel:
    return make_email_channel(tenant)


def bulk_events(channel: Channel, count: int, status: str = InboundStatus.PROCESSED,
                start: int = 0) -> None:
    # Pairs share a timestamp: paging must break ties by id, never skip or repeat a row.
    base = timezone.now() - timedelta(days=1)
    InboundEvent.objects.bulk_create([
        InboundEvent(organization_id=channel.organization_id, channel=channel,
                     provider_id=f"<bulk-{start + n}@example.com>", payload={"raw": "x"},
                     status=status, received_at=base + timedelta(seconds=(start + n) // 2))
        for n in range(count)])


def failing_contacts(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """The contacts service (a dependency of ingest, not what is tested) fails as a locked
    database would, until healed."""
    real_batch = ingest_batch.contacts_by_identity

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    # The set-based run fails, and so does its redo one by one.
    monkeypatch.setattr(ingest_batch, "contacts_by_identity", locked)

    def heal() -> None:
        monkeypatch.setattr(ingest_batch, "contacts_by_identity", real_batch)

    return heal


def test_log_lists_events_with_reasons_and_links(channel: Channel, admin_client: Client) -> None:
    garbage = receive(channel, hostile.corpus()["garbage.eml"])
    good = receive(channel, customer_mail(subject="Pedido 42"))
    assert garbage.status == InboundStatus.QUARANTINED and good.status == InboundStatus.PROCESSED
    page = admin_client.get(log_url(channel)).content.decode()
    assert ROW.findall(page) == ["processed", "quarantined"]  # newest first
    event = InboundEvent.objects.get(pk=garbage.event_id)
    assert "does not say who sent it" in page, event.error
    assert event.error[:40] in page  # the technical detail beside the sentence
    ticket_id = Message.objects.get(pk=good.message_id).ticket_id
    assert f"/tickets/{ticket_id}/#message-{good.message_id}" in page
    assert log_url(channel, f"{garbage.event_id}/original.eml") in page
    assert log_url(channel, f"{garbage.event_id}/reprocess/") in page
    # Reached from the channel's edit page and the channels list (with the badge).
    edit = admin_client.get(f"/settings/channels/{channel.pk}/").content.decode()
    assert log_url(channel) in edit
    listing = admin_client.get("/settings/channels/").content.decode()
    assert re.search(r'quarantine-count"[^>]*>1<', listing)


def test_reasons_in_portuguese(channel: Channel, tenant: Tenant) -> None:
    receive(channel, hostile.corpus()["garbage.eml"])
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(tenant.admin)
    page = client.get(log_url(channel)).content.decode()
    assert "Registro do canal" in page and "Em quarentena" in page
    assert "não diz quem o enviou" in page
    assert "Processar novamente" in page


def test_filters_and_keyset_paging(channel: Channel, admin_client: Client) -> None:
    bulk_events(channel, 120)
    bulk_events(channel, 7, InboundStatus.QUARANTINED, start=500)
    bulk_events(channel, 3, InboundStatus.RECEIVED, start=600)
    seen: list[str] = []
    url = log_url(channel) + "?status=processed"
    while url:
        page = admin_client.get(url).content.decode()
        rows = re.findall(r"<code>&lt;(bulk-\d+)@example.com&gt;</code>", page)
        assert len(rows) <= 50
        seen += rows
        older = re.search(r'href="(\?status=processed&amp;before=[^"]+)" rel="next"', page)
        url = log_url(channel) + older.group(1).replace("&amp;", "&") if older else ""
    assert len(seen) == len(set(seen)) == 120
    assert seen[0] == "bulk-119" and seen[-1] == "bulk-0"
    quarantined = admin_client.get(log_url(channel) + "?status=quarantined").content.decode()
    assert ROW.findall(quarantined) == ["quarantined"] * 7
    waiting = admin_client.get(log_url(channel) + "?status=waiting").content.decode()
    assert ROW.findall(waiting) == ["received"] * 3
    everything = admin_client.get(log_url(channel) + "?status=bogus&before=junk")
    assert everything.status_code == 200 and len(ROW.findall(everything.content.decode())) == 50


def test_query_count_is_constant(channel: Channel, admin_client: Client, tenant: Tenant,
                                 make_tenant: Callable[..., Tenant]) -> None:
    receive(channel, customer_mail())

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    few = count(log_url(channel))
    for n in range(30):
        receive(channel, customer_mail(subject=f"Pedido {n}"))
    bulk_events(channel, 5, InboundStatus.QUARANTINED)
    assert count(log_url(channel)) == few
    channels_few = count("/settings/channels/")
    for _n in range(4):
        receive(make_email_channel(tenant), hostile.corpus()["garbage.eml"])
    assert count("/settings/channels/") == channels_few


def test_eml_download_and_payload_are_tenant_scoped(channel: Channel, admin_client: Client,
                                                    other_tenant: Tenant) -> None:
    raw = hostile.corpus()["garbage.eml"]
    receipt = receive(channel, raw)
    response = admin_client.get(log_url(channel, f"{receipt.event_id}/original.eml"))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == raw  # type: ignore[attr-defined]
    detail = admin_client.get(log_url(channel, f"{receipt.event_id}/")).content.decode()
    assert "&quot;raw&quot;: &quot;email/raw/" in detail  # escaped, pretty-printed JSON
    payload = admin_client.get(log_url(channel, f"{receipt.event_id}/payload.json"))
    assert payload["Content-Disposition"].startswith("attachment;")

    intruder = Client(HTTP_ACCEPT_LANGUAGE="en")
    intruder.force_login(other_tenant.admin)
    for suffix in ("", f"{receipt.event_id}/", f"{receipt.event_id}/original.eml",
                   f"{receipt.event_id}/payload.json"):
        assert intruder.get(log_url(channel, suffix)).status_code == 404
    assert intruder.post(log_url(channel, f"{receipt.event_id}/reprocess/")).status_code == 404
    # Their own channel with our event id: still nothing of ours.
    theirs = make_email_channel(other_tenant)
    assert intruder.get(log_url(theirs, f"{receipt.event_id}/original.eml")).status_code == 404
    assert "garbage" not in intruder.get("/settings/channels/").content.decode()


def test_agents_without_settings_get_403(channel: Channel, tenant: Tenant) -> None:
    receipt = receive(channel, hostile.corpus()["garbage.eml"])
    user = User.objects.create_user("plain@example.com", "pw-long-enough-1")
    Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT)
    client = Client()
    client.force_login(user)
    assert client.get(log_url(channel)).status_code == 403
    assert client.get(log_url(channel, f"{receipt.event_id}/original.eml")).status_code == 403
    assert client.post(log_url(channel, f"{receipt.event_id}/reprocess/")).status_code == 403


def test_process_again_after_a_transient_failure(channel: Channel, admin_client: Client,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    heal = failing_contacts(monkeypatch)
    receipt = receive(channel, customer_mail(subject="Falha passageira"))
    assert receipt.status == InboundStatus.QUARANTINED
    page = admin_client.get(log_url(channel)).content.decode()
    assert "temporary failure" in page
    url = log_url(channel, f"{receipt.event_id}/reprocess/")
    # Still failing: stays quarantined, and says so.
    response = admin_client.post(url, follow=True)
    assert "still quarantined" in response.content.decode()
    assert InboundEvent.objects.get(pk=receipt.event_id).status == InboundStatus.QUARANTINED
    heal()
    assert admin_client.get(url).status_code == 405  # POST only
    admin_client.post(url)
    event = InboundEvent.objects.get(pk=receipt.event_id)
    assert event.status == InboundStatus.PROCESSED and event.error == ""
    assert event.message is not None and event.message.ticket.subject == "Falha passageira"
    # Idempotent: processed meanwhile, a second click changes nothing.
    admin_client.post(url)
    assert Ticket.objects.filter(subject="Falha passageira").count() == 1
    assert Message.objects.filter(channel=channel).count() == 1


def test_health_panel(channel: Channel, admin_client: Client) -> None:
    MailboxState.objects.create(organization_id=channel.organization_id, channel=channel,
                                folder="INBOX", polled_at=timezone.now(),
                                last_error="LOGIN failed: authentication failed")
    page = admin_client.get(log_url(channel)).content.decode()
    assert "INBOX" in page and "LOGIN failed: authentication failed" in page
    assert "Failed sends (7 days)" in page


def test_unreadable_mail_processed_again_after_a_fix(channel: Channel, admin_client: Client,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from atende.connectors.email import inbound

    real = inbound.parse

    def broken(*args: Any, **kwargs: Any) -> Any:  # the parser before the fix was deployed
        raise LookupError("unknown encoding: x-bogus")

    monkeypatch.setattr(inbound, "parse", broken)
    first = receive(channel, customer_mail(subject="Charset novo"))
    assert first.status == InboundStatus.QUARANTINED
    assert "could not be read" in admin_client.get(log_url(channel)).content.decode()
    monkeypatch.setattr(inbound, "parse", real)
    admin_client.post(log_url(channel, f"{first.event_id}/reprocess/"))
    # Now parsed, the mail is keyed by its Message-ID: a new row, the old one points to it.
    old = InboundEvent.objects.get(pk=first.event_id)
    new = InboundEvent.objects.exclude(pk=old.pk).get(channel=channel)
    assert new.status == InboundStatus.PROCESSED and new.message is not None
    assert old.status == InboundStatus.DUPLICATE and old.message == new.message
    assert old.error == f"processed again as event {new.pk}"
    assert Ticket.objects.filter(subject="Charset novo").count() == 1


def test_process_again_without_the_stored_file(channel: Channel, admin_client: Client,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.files.storage import default_storage

    failing_contacts(monkeypatch)
    receipt = receive(channel, customer_mail())
    event = InboundEvent.objects.get(pk=receipt.event_id)
    default_storage.delete(event.payload["raw"])
    response = admin_client.post(log_url(channel, f"{event.pk}/reprocess/"), follow=True)
    assert "original mail file is missing" in response.content.decode()
    assert admin_client.get(log_url(channel, f"{event.pk}/original.eml")).status_code == 404
