"""Answering a request for a stored file, wherever files are kept (docs/storage.md).

The caller has already checked that the requester may read the file. On S3-compatible
storage a download is a redirect to a signed URL that expires within a minute, so the bytes
do not pass through a web process; inline previews and the "proxy" mode stream the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage


def _signing_storage() -> S3Storage | None:
    """The default storage when it signs download URLs (S3 in "redirect" mode)."""
    storage = storages["default"]
    if settings.S3_DOWNLOADS != "redirect" or isinstance(storage, FileSystemStorage):
        return None
    from storages.backends.s3 import S3Storage  # boto3 is imported only when S3 is used

    return storage if isinstance(storage, S3Storage) and storage.querystring_auth else None


def file_response(name: str, *, filename: str, content_type: str, as_attachment: bool = True,
                  may_redirect: bool = True) -> HttpResponseBase:
    """The stored file `name` as a download (or inline when `as_attachment` is false).
    `may_redirect=False` always streams: the REST API's callers expect the file itself."""
    signing = _signing_storage() if as_attachment and may_redirect else None
    if signing is not None:
        # The signed URL carries the name and type the app would have sent; the bucket's
        # own metadata is never trusted for them.
        url = signing.url(name, parameters={
            "ResponseContentDisposition": content_disposition_header(True, filename),
            "ResponseContentType": content_type,
        })
        response: HttpResponseBase = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"  # the URL expires; never reuse it
        return response
    try:
        handle = storages["default"].open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=as_attachment, filename=filename,
                        content_type=content_type)
