"""API authentication (Bearer or X-API-Key) and the per-key rate limit."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer

from atende.api_errors import ApiError
from atende.tenancy.api_keys import active_issuer, authenticate_api_key
from atende.tenancy.models import ApiKey, Permission


def check_rate_limit(key: ApiKey) -> None:
    """Fixed one-minute window per key, counted in the shared cache (Redis when scaled)."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    if limit <= 0:
        return
    window = int(time.time() // 60)
    cache_key = f"ratelimit:{key.pk}:{window}"
    if cache.add(cache_key, 1, timeout=61):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=61)
            count = 1
    if count > limit:
        retry = 60 - int(time.time() % 60)
        raise ApiError(429, "rate_limited",
                       _("Too many requests for this API key; try again in %(s)d s.")
                       % {"s": retry}, headers={"Retry-After": str(retry)})


def _authenticate(request: HttpRequest, token: str) -> ApiKey | None:
    key = authenticate_api_key(token)
    if key is None:
        return None
    check_rate_limit(key)
    request.organization = key.organization  # type: ignore[attr-defined]
    return key


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return _authenticate(request, token)


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return _authenticate(request, key) if key else None


API_AUTH = [BearerKey(), HeaderKey()]


def org_key(request: HttpRequest, *permissions: str) -> ApiKey:
    """The organisation-wide key of this request; channel-bound keys may not use it.

    A key issued by an agent acts with that agent's permissions of now (docs/permissions.md):
    an operation guarded by `permissions` is refused when they no longer hold it, and every
    operation once they are no longer an agent there. A key with no issuer (command line,
    demo) is the organisation's."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    if key.channel_id is not None:
        raise ApiError(403, "forbidden",
                       _("This key belongs to a channel and can only post into it."))
    if key.created_by_id is None:  # the organisation's own key
        return key
    issuer = active_issuer(key)
    if issuer is None:
        raise ApiError(403, "forbidden", _(
            "The agent who issued this API key is no longer an agent of this organisation."))
    for permission in permissions:
        if not issuer.has_permission(permission):
            raise ApiError(403, "forbidden", _(
                "The agent who issued this API key does not have the permission "
                "\"%(permission)s\".") % {"permission": Permission(permission).label})
    return key

