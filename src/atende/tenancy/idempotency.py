"""`Idempotency-Key`: the first response to a key is stored and replayed on retries; the same
key with a different body is a conflict (409)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from atende.api_errors import ApiError
from atende.tenancy.models import IdempotencyRecord


def _replay(record: IdempotencyRecord, request_hash: str) -> tuple[int, Any]:
    if record.request_hash != request_hash:
        raise ApiError(409, "idempotency_conflict",
                       _("This Idempotency-Key was already used with a different request."))
    return record.status_code, record.response


def run_once(organization_id: int, key: str | None, body: bytes,
             action: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Run `action` (returning status, JSON body) once per key; atomic with its record."""
    if not key:
        return action()
    key = key[:255]
    request_hash = hashlib.sha256(body).hexdigest()
    record = IdempotencyRecord.objects.for_org(organization_id).filter(key=key).first()
    if record is not None:
        return _replay(record, request_hash)
    try:
        with transaction.atomic():
            status, response = action()
            IdempotencyRecord.objects.create(
                organization_id=organization_id, key=key, request_hash=request_hash,
                status_code=status, response=response,
            )
            return status, response
    except IntegrityError:
        # A concurrent request with the same key committed first; ours rolled back whole.
        record = IdempotencyRecord.objects.for_org(organization_id).filter(key=key).first()
        if record is None:
            raise
        return _replay(record, request_hash)
