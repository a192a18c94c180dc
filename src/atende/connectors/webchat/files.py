"""Files a visitor sends: images and PDFs up to a limit, their type read from the bytes
(the browser's claim is not trusted), kept on the storage before the message is stored."""

from __future__ import annotations

import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from atende.tickets.services.attachments import clean_filename

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


class FileRefused(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def sniff(head: bytes) -> str | None:
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def keep(channel_id: int, filename: str, size: int, data: bytes) -> dict[str, str]:
    """Check and store one upload; returns its entry for the raw event. Raises
    FileRefused with a sentence for the visitor."""
    if size > MAX_BYTES:
        raise FileRefused(_("The file is larger than %(limit)d MB.") % {
            "limit": MAX_BYTES // (1024 * 1024)}, "file_too_large")
    content_type = sniff(data[:16])
    if content_type is None:
        raise FileRefused(_("Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent."),
                          "file_type")
    path = default_storage.save(f"webchat/incoming/{channel_id}/{secrets.token_hex(16)}",
                                ContentFile(data))
    return {"path": path, "name": clean_filename(filename), "type": content_type}
