"""Received mail kept as it arrived: a batch in one file, each mail a span of it, read back
exactly (download, reprocess) and only for its own organisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage, storages
from django.test import Client

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.pipeline import process_again
from atende.connectors.email import raw_store
from atende.connectors.email.receive import receive_many
from atende.tickets.models import Message, Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import customer_mail, make_email_channel


def _mails(count: int) -> list[bytes]:
    return [customer_mail(subject=f"Lote {n}", text="ção " * n,
                          message_id=f"<lote-{n}@example.com>") for n in range(count)]


def test_a_batch_is_one_file_and_every_mail_reads_back_exactly(
        email_channel: Channel) -> None:
    raws = [*_mails(5), b"Subject: no sender\r\n\r\nhello\r\n"]
    receipts = receive_many(email_channel, [(raw, "imap:1:1") for raw in raws])
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED] * 5 + [
        InboundStatus.QUARANTINED]
    payloads = [InboundEvent.objects.get(pk=r.event_id).payload for r in receipts]
    assert len({p["raw"] for p in payloads}) == 1  # one file for the batch
    assert Path(default_storage.path(payloads[0]["raw"])).stat().st_size == sum(map(len, raws))
    for raw, payload in zip(raws, payloads, strict=True):
        assert payload["size"] == len(raw)
        assert raw_store.read(email_channel.organization_id, payload) == raw


def test_a_mail_alone_keeps_a_file_of_its_own(email_channel: Channel) -> None:
    raw = customer_mail()
    [(name, span)] = raw_store.store_batch(email_channel, [raw])
    assert span is None and name == raw_store.single_name(email_channel, raw)
    assert raw_store.payload_of((name, span)) == {"raw": name}
    assert raw_store.read(email_channel.organization_id, {"raw": name}) == raw


@pytest.mark.parametrize("span", [[-1, 3], [0, True], [0], "0,3", [0, 10_000], [1.5, 2]])
def test_a_span_that_is_not_one_we_wrote_reads_nothing(email_channel: Channel,
                                                       span: Any) -> None:
    [(name, _span), _other] = raw_store.store_batch(email_channel, _mails(2))
    assert raw_store.read(email_channel.organization_id, {"raw": name, "raw_span": span}) is None


def test_another_organisations_mail_or_a_path_out_reads_nothing(
        email_channel: Channel, other_tenant: Tenant) -> None:
    [(name, span), _other] = raw_store.store_batch(email_channel, _mails(2))
    payload = raw_store.payload_of((name, span))
    assert raw_store.read(email_channel.organization_id, payload) is not None
    assert raw_store.read(other_tenant.org.pk, payload) is None
    org = email_channel.organization_id
    assert raw_store.read(org, {"raw": f"email/raw/{org}/../../../etc/passwd"}) is None
    assert raw_store.read(org, {"raw": f"email/raw/{org}/gone.eml"}) is None


def test_a_failed_write_keeps_nothing_of_the_batch(
        email_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fchmod", full_disk)
    monkeypatch.setattr(default_storage, "file_permissions_mode", 0o640)
    with pytest.raises(OSError, match="No space"):
        receive_many(email_channel, [(raw, "imap:1:1") for raw in _mails(3)])
    assert not InboundEvent.objects.exists() and not Ticket.objects.exists()
    root = Path(default_storage.path("email/raw"))
    assert not [p for p in root.rglob("*") if p.is_file()]
    monkeypatch.undo()
    receipts = receive_many(email_channel, [(raw, "imap:1:1") for raw in _mails(3)])
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED] * 3


def test_a_mail_of_a_batch_downloads_and_is_processed_again_from_its_span(
        tenant: Tenant, admin_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = make_email_channel(tenant)
    raws = _mails(3)
    broken = raws[1]

    def contacts_down(*args: object, **kwargs: object) -> Any:
        raise RuntimeError("contacts are down")

    real = receive_many.__globals__["ingest_many"]

    def fails_for_the_second(channel: Channel, inbounds: list[Any], **kwargs: Any) -> Any:
        if any(i.subject == "Lote 1" for i in inbounds):
            contacts_down()
        return real(channel, inbounds, **kwargs)

    monkeypatch.setattr("atende.connectors.email.receive.ingest_many", fails_for_the_second)
    receipts = receive_many(channel, [(raw, "imap:1:1") for raw in raws])
    assert [r.status for r in receipts] == [InboundStatus.PROCESSED, InboundStatus.QUARANTINED,
                                            InboundStatus.PROCESSED]
    monkeypatch.undo()
    first = Message.objects.get(pk=receipts[0].message_id)
    response = admin_client.get(f"/messages/{first.pk}/original.eml")
    assert b"".join(response.streaming_content) == raws[0]  # type: ignore[attr-defined]

    event = InboundEvent.objects.get(pk=receipts[1].event_id)
    assert event.payload["raw_span"] == [len(raws[0]), len(broken)]
    process_again(event)
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    assert event.message is not None and event.message.ticket.subject == "Lote 1"


def test_a_storage_other_than_the_local_disk_keeps_the_batch_too(
        email_channel: Channel, settings: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.InMemoryStorage"}}
    assert type(storages["default"]).__name__ == "InMemoryStorage"
    raws = _mails(3)
    stored = raw_store.store_batch(email_channel, raws)
    assert len({name for name, _span in stored}) == 1
    for raw, item in zip(raws, stored, strict=True):
        assert raw_store.read(email_channel.organization_id, raw_store.payload_of(item)) == raw
    assert raw_store.store_batch(email_channel, []) == []
