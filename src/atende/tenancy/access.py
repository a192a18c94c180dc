"""Resolving who is calling and in which organisation."""

from __future__ import annotations

from django.http import HttpRequest

from atende.tenancy.api_keys import authenticate_api_key
from atende.tenancy.models import Membership

SESSION_ORG_KEY = "organization_id"


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.headers.get("X-Api-Key", "").strip()


def active_membership(request: HttpRequest) -> Membership | None:
    """The signed-in agent's membership in the organisation chosen for this session."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organization", "access_profile").filter(
        user=user, is_active=True
    )
    chosen = request.session.get(SESSION_ORG_KEY) if hasattr(request, "session") else None
    if chosen:
        membership = memberships.filter(organization_id=chosen).first()
        if membership:
            return membership
    return memberships.order_by("created_at").first()


def organization_for_stream(request: HttpRequest) -> int | None:
    token = bearer_token(request)
    if token:
        key = authenticate_api_key(token)
        return key.organization_id if key else None
    membership = active_membership(request)
    return membership.organization_id if membership else None
