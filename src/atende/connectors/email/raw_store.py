"""Where received mail is kept as it arrived (the `.eml` an agent downloads, the bytes a
reprocess parses again).

A mail taken in alone is one file named by its SHA-256 (the same mail fetched twice is
stored once). A batch is one file holding its mails one after the other, each event's
payload naming the file (`raw`) and its mail's bytes in it (`raw_span`: offset, length):
creating a file is most of a mail's system time on ext4 (allocating its inode, and for
minutes after many files were deleted, scanning past theirs), and a batch of 100 mails then
creates one file instead of 100 and their directories.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import uuid
from collections.abc import Mapping, Sequence
from typing import IO, cast

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.utils import timezone
from django.utils._os import safe_makedirs

from atende.channels.models import Channel

type Stored = tuple[str, tuple[int, int] | None]  # file name, (offset, length) in it


def single_name(channel: Channel, raw: bytes) -> str:
    digest = hashlib.sha256(raw).hexdigest()
    return f"email/raw/{channel.organization_id}/{channel.pk}/{digest[:2]}/{digest}.eml"


def store_one(channel: Channel, raw: bytes) -> str:
    """One mail in a file of its own, content-addressed."""
    return _store(single_name(channel, raw), raw, exists_ok=True)


def store_batch(channel: Channel, raws: Sequence[bytes]) -> list[Stored]:
    """The mails of a batch in one new file; (name, span) per mail, in order. Raises when
    the file cannot be written (and leaves no part of it behind)."""
    if len(raws) <= 1:
        return [(store_one(channel, raw), None) for raw in raws]
    name = (f"email/raw/{channel.organization_id}/{channel.pk}/"
            f"{timezone.now():%Y-%m}/{uuid.uuid4().hex}.mails")
    spans: list[tuple[int, int] | None] = []
    offset = 0
    for raw in raws:
        spans.append((offset, len(raw)))
        offset += len(raw)
    name = _store(name, b"".join(raws), exists_ok=False)  # a remote storage may rename it
    return [(name, span) for span in spans]


def payload_of(stored: Stored) -> dict[str, object]:
    name, span = stored
    return {"raw": name} if span is None else {"raw": name, "raw_span": list(span)}


def open_mail(org_id: int, payload: Mapping[str, object]) -> IO[bytes] | None:
    """The mail an event's payload points at, open for reading; None when it is not one
    `receive` stored for this organisation (the payload is ours, but be strict) or the file
    is gone."""
    name, span = payload.get("raw"), payload.get("raw_span")
    if (not isinstance(name, str) or not name.startswith(f"email/raw/{org_id}/")
            or ".." in name):
        return None
    if span is not None and not (isinstance(span, list) and len(span) == 2 and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in span)):
        return None
    try:
        handle = storages["default"].open(name, "rb")
    except (OSError, ValueError):
        return None
    if span is None:
        return cast(IO[bytes], handle)
    with handle:
        offset, length = span
        handle.seek(offset)
        data = bytes(handle.read(length))
    return io.BytesIO(data) if len(data) == length else None


def read(org_id: int, payload: Mapping[str, object]) -> bytes | None:
    handle = open_mail(org_id, payload)
    if handle is None:
        return None
    with handle:
        return bytes(handle.read())


def _store(name: str, data: bytes, *, exists_ok: bool) -> str:
    storage = storages["default"]
    if type(storage) is FileSystemStorage:
        return _store_local(storage, name, data)
    if exists_ok and storage.exists(name):
        return name
    return str(storage.save(name, ContentFile(data)))


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _store_local(storage: FileSystemStorage, name: str, data: bytes) -> str:
    """What `exists` then `save` do on a local disk (the same path, directory and file
    modes), with a third of their system calls (no second `exists`, no lock on a file only
    this call can have created, `fchmod` on the open file). A write that fails leaves no
    partial file behind (which the next delivery would take for the stored mail)."""
    path = storage.path(name)
    try:
        fd = os.open(path, _CREATE, 0o666)
    except FileExistsError:
        return name  # stored before: the same bytes, by its name (a batch's name is new)
    except FileNotFoundError:
        directory = os.path.dirname(path)
        if storage.directory_permissions_mode is not None:
            safe_makedirs(directory, storage.directory_permissions_mode, exist_ok=True)
        else:
            os.makedirs(directory, exist_ok=True)
        try:
            fd = os.open(path, _CREATE, 0o666)
        except FileExistsError:
            return name
    try:
        with os.fdopen(fd, "wb", closefd=True) as handle:
            if storage.file_permissions_mode is not None:
                os.fchmod(handle.fileno(), storage.file_permissions_mode)
            handle.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return name
