"""The portal's own sign-in session, apart from the agents' Django session.

A random key in the `atende_portal` cookie, scoped to the organisation's portal path
(`/p/<slug>/`), so the browser never sends it to the workspace; the row keeps only its
SHA-256. The workspace reads only Django's session (`request.user`), and the portal reads
only this cookie: neither session opens the other side.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from atende.connectors.portal.accounts import signed_in
from atende.connectors.portal.models import CustomerAccount, PortalSession
from atende.tenancy.models import Organization

COOKIE = "atende_portal"
LIFETIME = timedelta(days=14)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _path(org: Organization) -> str:
    return reverse("portal:home", kwargs={"slug": org.slug})


def start(response: HttpResponse, account: CustomerAccount) -> None:
    key = secrets.token_urlsafe(32)
    PortalSession.objects.create(organization_id=account.organization_id, account=account,
                                 key_hash=_hash(key), expires_at=timezone.now() + LIFETIME)
    signed_in(account)
    response.set_cookie(COOKIE, key, max_age=int(LIFETIME.total_seconds()),
                        path=_path(account.organization), httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)


def current(request: HttpRequest, org: Organization) -> CustomerAccount | None:
    """The signed-in customer of this organisation's portal, or None."""
    key = request.COOKIES.get(COOKIE)
    if not key:
        return None
    session = (PortalSession.objects.for_org(org).select_related("account__contact")
               .filter(key_hash=_hash(key), expires_at__gt=timezone.now()).first())
    return session.account if session else None


def end(request: HttpRequest, response: HttpResponse, org: Organization) -> None:
    key = request.COOKIES.get(COOKIE)
    if key:
        PortalSession.objects.for_org(org).filter(key_hash=_hash(key)).delete()
    response.delete_cookie(COOKIE, path=_path(org), samesite="Lax")
