"""Attachments and raw mail on S3-compatible storage, against a real S3 endpoint (moto's
server in its own process): files land in the bucket, downloads go through short-lived
signed URLs only after the app checked who may read them, and the move command copies a
disk's files to the bucket once."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from atende.connectors.api.channels import create_api_channel
from atende.connectors.email import raw_store
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import NewAttachment, post_message
from tests.fakes import s3_server
from tests.fakes.processes import profile_env, run_django

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with s3_server.s3_endpoint(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def bucket(endpoint: str, settings: Any) -> Iterator[str]:
    name = f"atende-{uuid.uuid4().hex[:12]}"
    s3_server.client(endpoint).create_bucket(Bucket=name)
    with override_settings(STORAGES={**settings.STORAGES,
                                     "default": s3_server.storage_options(endpoint, name)}):
        yield name


def keys(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = s3_server.client(endpoint)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            for o in listed}


def test_an_attachment_lands_in_the_bucket_and_downloads_by_a_signed_url(
        endpoint: str, bucket: str, tenant: Any, other_tenant: Any, admin_client: Client,
        make_ticket: Any, settings: Any) -> None:
    ticket = make_ticket(tenant.org, "Files")
    message = post_message(ticket, Actor(user=tenant.admin), text="files", attachments=[
        NewAttachment("relatório março.pdf", "application/pdf", b"%PDF-1.4 quarterly"),
        NewAttachment("shot.png", "image/png", PNG)])
    pdf, png = message.attachments.order_by("filename")
    stored = keys(endpoint, bucket)
    assert stored[pdf.file.name] == b"%PDF-1.4 quarterly" and stored[png.file.name] == PNG
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]

    response = admin_client.get(f"/attachments/{pdf.pk}/")
    assert response.status_code == 302 and response["Cache-Control"] == "no-store"
    url = response["Location"]
    assert url.startswith(endpoint + f"/{bucket}/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.content == b"%PDF-1.4 quarterly"
    assert fetched.headers["content-type"] == "application/octet-stream"  # never the bucket's
    assert "attachment" in fetched.headers["content-disposition"]
    assert "relat%C3%B3rio" in fetched.headers["content-disposition"]

    # An inline preview streams through the app: the page's CSP allows only itself.
    inline = admin_client.get(f"/attachments/{png.pk}/?inline=1")
    assert inline.status_code == 200 and b"".join(inline.streaming_content) == PNG

    # The app decides before any URL is signed: a stranger gets no URL at all.
    stranger = Client()
    stranger.force_login(other_tenant.admin)
    assert stranger.get(f"/attachments/{pdf.pk}/").status_code == 404


def test_proxy_mode_streams_downloads(endpoint: str, bucket: str, tenant: Any,
                                      admin_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket(tenant.org, "Files")
    message = post_message(ticket, Actor(user=tenant.admin), text="f",
                           attachments=[NewAttachment("a.txt", "text/plain", b"private")])
    with override_settings(S3_DOWNLOADS="proxy"):
        response = admin_client.get(f"/attachments/{message.attachments.get().pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"private"


def test_a_file_missing_from_the_bucket_is_404(endpoint: str, bucket: str, tenant: Any,
                                               admin_client: Client, make_ticket: Any) -> None:
    ticket = make_ticket(tenant.org, "Files")
    message = post_message(ticket, Actor(user=tenant.admin), text="f",
                           attachments=[NewAttachment("a.png", "image/png", PNG)])
    item = message.attachments.get()
    s3_server.client(endpoint).delete_object(Bucket=bucket, Key=item.file.name)
    assert admin_client.get(f"/attachments/{item.pk}/?inline=1").status_code == 404


def test_the_api_channel_download_stays_a_plain_file(endpoint: str, bucket: str,
                                                     tenant: Any, make_ticket: Any) -> None:
    channel, raw_key, _secret = create_api_channel(
        tenant.org, name="ERP", service=tenant.service, webhook_url="http://127.0.0.1:9/")
    ticket = make_ticket(tenant.org, "From the ERP", channel=channel)
    message = post_message(ticket, Actor(user=tenant.admin), text="f",
                           attachments=[NewAttachment("nf.xml", "text/xml", b"<nf/>")])
    item = message.attachments.get()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    response = api.get(f"/api/v1/channels/{channel.pk}/attachments/{item.pk}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"<nf/>"


def test_raw_mail_batches_are_read_back_by_span(endpoint: str, bucket: str,
                                                tenant: Any) -> None:
    channel, _key, _secret = create_api_channel(
        tenant.org, name="Mail", service=tenant.service, webhook_url="http://127.0.0.1:9/")
    mails = [b"From: a@x\r\n\r\none", b"From: b@x\r\n\r\ntwo, longer", b"From: c@x\r\n\r\n3"]
    stored = raw_store.store_batch(channel, mails)
    assert len({name for name, _span in stored}) == 1
    assert list(keys(endpoint, bucket)) == [stored[0][0]]
    for mail, item in zip(mails, stored, strict=True):
        assert raw_store.read(tenant.org.pk, raw_store.payload_of(item)) == mail
    single = raw_store.store_one(channel, b"From: d@x\r\n\r\nalone")
    assert raw_store.store_one(channel, b"From: d@x\r\n\r\nalone") == single  # stored once
    assert raw_store.read(tenant.org.pk, {"raw": single}) == b"From: d@x\r\n\r\nalone"


def test_the_move_command_copies_once_and_deletes_only_what_the_bucket_holds(
        endpoint: str, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "media"
    files = {"attachments/1/2026/12/ab/abcd": b"one", "email/raw/1/2/x.eml": b"two" * 1000,
             "top.bin": b""}
    for name, data in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)

    call_command("move_files_to_s3", "--source", str(source), "--dry-run")
    assert keys(endpoint, bucket) == {}
    call_command("move_files_to_s3", "--source", str(source))
    assert keys(endpoint, bucket) == files

    # A file the bucket holds whole is skipped; one it holds truncated is copied again.
    s3_server.client(endpoint).put_object(Bucket=bucket, Key="top.bin", Body=b"stale")
    call_command("move_files_to_s3", "--source", str(source), "--delete")
    assert keys(endpoint, bucket) == files
    assert [p for p in source.rglob("*") if p.is_file()] == []


def test_the_move_command_refuses_without_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="ATENDE_S3_BUCKET"):
        call_command("move_files_to_s3", "--source", str(tmp_path))


@pytest.mark.slow
def test_the_environment_chooses_the_bucket(endpoint: str, tmp_path: Path) -> None:
    """What an operator sets (ATENDE_S3_*) is what the storage uses, in a fresh process."""
    name = f"atende-{uuid.uuid4().hex[:12]}"
    s3_server.client(endpoint).create_bucket(Bucket=name)
    env = profile_env(tmp_path, **s3_server.environment(endpoint, name),
                      ATENDE_S3_PREFIX="tenant-files")
    out = run_django(
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage as s\n"
        "print(s.save('probe/a.txt', ContentFile(b'hello')))\n"
        "print(s.open('probe/a.txt').read().decode())\n", env)
    assert out.split() == ["probe/a.txt", "hello"]
    assert keys(endpoint, name) == {"tenant-files/probe/a.txt": b"hello"}
    assert not (tmp_path / "media" / "probe").exists()
    assert os.environ.get("ATENDE_S3_BUCKET") is None  # the test run itself stays on disk
