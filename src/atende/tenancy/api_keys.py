"""API keys: generated once, shown once, stored as a SHA-256 hash, looked up by prefix."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.utils import timezone

from atende.crypto import constant_time_equals, sha256_hex
from atende.tenancy.models import ApiKey, Membership, Organization

KEY_PREFIX = "atk_"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def generate_api_key(
    organization: Organization, name: str, *, channel_id: int | None = None,
    created_by_id: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the only copy of the secret."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    raw = f"{KEY_PREFIX}{prefix}_{secret}"
    key = ApiKey.objects.create(
        organization=organization, name=name, prefix=prefix, hashed_secret=sha256_hex(raw),
        channel_id=channel_id, created_by_id=created_by_id,
    )
    return key, raw


def authenticate_api_key(raw: str) -> ApiKey | None:
    """The active key matching `raw`, or None. Constant-time comparison of the hash."""
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix, _sep, _secret = raw[len(KEY_PREFIX):].partition("_")
    if not prefix or not _sep:
        return None
    key = (
        ApiKey.objects.select_related("organization")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not constant_time_equals(key.hashed_secret, sha256_hex(raw)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def key_permits(key: ApiKey, permission: str) -> bool:
    """A key issued by an agent acts with that agent's permissions of now, and stops being
    enough once they leave the organisation; a key with no issuer (command line, demo) is
    the organisation's own."""
    if key.created_by_id is None:
        return True
    issuer = active_issuer(key)
    return issuer is not None and issuer.has_permission(permission)


def active_issuer(key: ApiKey) -> Membership | None:
    """The membership of the agent who issued the key, while they are an active agent of
    its organisation."""
    return (Membership.objects.for_org(key.organization_id).select_related("access_profile")
            .filter(user_id=key.created_by_id, is_active=True).first())
