"""The images of a channel's signature (EM-6): checked, stored under the tenant's and the
channel's own folder, and read back for the editor and for outbound mail."""

from __future__ import annotations

import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from atende.channels.models import Channel
from atende.connectors.email.models import SignatureImage

MAX_IMAGE_BYTES = 1024 * 1024
# The file's first bytes decide its type: the browser's declared type is not trusted.
MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png", "png"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
         (b"GIF87a", "image/gif", "gif"), (b"GIF89a", "image/gif", "gif"))


class ImageRefused(ValueError):
    """Why an image cannot be part of a signature, in words for the administrator."""


def sniff(data: bytes) -> tuple[str, str]:
    """(content type, extension) of a PNG, JPEG or GIF; ImageRefused otherwise."""
    if not data:
        raise ImageRefused(_("The image is empty."))
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(_("The image is too large: at most 1 MB per image."))
    for magic, content_type, extension in MAGIC:
        if data.startswith(magic):
            return content_type, extension
    raise ImageRefused(_("Only PNG, JPEG and GIF images can be used in a signature."))


def store_image(channel: Channel, data: bytes) -> SignatureImage:
    """Check and keep one image for the channel's signature."""
    content_type, extension = sniff(data)
    name = (f"email_signatures/{channel.organization_id}/{channel.pk}/"
            f"{uuid.uuid4().hex}.{extension}")
    stored = default_storage.save(name, ContentFile(data))
    try:
        return SignatureImage.objects.create(
            organization_id=channel.organization_id, channel=channel, storage_name=stored,
            content_type=content_type, size=len(data))
    except Exception:
        default_storage.delete(stored)
        raise


def images_of(channel: Channel, pks: set[int]) -> dict[int, SignatureImage]:
    if not pks:
        return {}
    rows = SignatureImage.objects.for_org(channel.organization_id).filter(
        channel=channel, pk__in=pks)
    return {row.pk: row for row in rows}


def delete_images(images: list[SignatureImage]) -> None:
    """Rows now, files once the transaction commits (a rollback keeps both)."""
    if not images:
        return
    names = [image.storage_name for image in images]
    SignatureImage.objects.filter(pk__in=[image.pk for image in images]).delete()

    def delete_files() -> None:
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(delete_files)
