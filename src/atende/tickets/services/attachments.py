"""Storing attachments on Django's storage (local disk or S3), size-checked first."""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import unicodedata

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.utils.translation import gettext as _

from atende.tickets.errors import AttachmentTooLarge
from atende.tickets.models import Attachment, Message


def clean_filename(raw: str) -> str:
    """A display name safe anywhere: no directories, no control characters, bounded."""
    name = posixpath.basename(raw.replace("\\", "/")).strip()
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.lstrip(".") or "attachment"
    return name[:200]


def check_size(size: int) -> None:
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise AttachmentTooLarge(
            _("The file is larger than %(limit)d MB.") % {"limit": limit // (1024 * 1024)},
            field="attachments",
        )


def store_attachment(message: Message, filename: str, content_type: str,
                     content: bytes | File) -> Attachment:
    """Store one file for `message`. Raises AttachmentTooLarge before writing anything."""
    if isinstance(content, bytes):
        attachment = prepare_attachment(message, filename, content_type, content)
        file: File = ContentFile(content)
    else:
        size = content.size or 0
        check_size(size)
        hasher = hashlib.sha256()
        for chunk in content.chunks():
            hasher.update(chunk)
        content.seek(0)
        attachment = _row(message, filename, content_type, size, hasher.hexdigest())
        file = content
    attachment.file.save(attachment.filename, file, save=False)
    attachment.save()
    return attachment


def prepare_attachment(message: Message, filename: str, content_type: str,
                       content: bytes) -> Attachment:
    """The row `store_attachment` stores for these bytes, unsaved and without its file (the
    set-based ingest saves the files and inserts the rows in bulk). Raises
    AttachmentTooLarge."""
    check_size(len(content))
    return _row(message, filename, content_type, len(content),
                hashlib.sha256(content).hexdigest())


def _row(message: Message, filename: str, content_type: str, size: int,
         digest: str) -> Attachment:
    name = clean_filename(filename)
    ctype = (content_type or mimetypes.guess_type(name)[0] or "application/octet-stream")[:150]
    return Attachment(
        organization_id=message.organization_id, message=message, filename=name,
        content_type=ctype, size=size, sha256=digest,
    )
