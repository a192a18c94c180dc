"""Resolving who is calling and in which organisation."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest

from atende.tenancy.models import Membership

SESSION_ORG_KEY = "organization_id"


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.headers.get("X-Api-Key", "").strip()


def _own_memberships(request: HttpRequest) -> list[Membership]:
    """The signed-in user's active memberships and pending invitations (organisation and
    access profile selected), in organisation name order: read once per request and user,
    since the workspace frame lists the same rows `active_membership` chooses from."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    cached: tuple[int, list[Membership]] | None = getattr(request, "_agent_memberships", None)
    if cached is None or cached[0] != user.pk:  # signing in or out changes the user
        cached = (user.pk, list(
            Membership.objects.select_related("organization", "access_profile")
            .filter(Q(is_active=True) | Q(invitation_pending=True), user=user)
            .order_by("organization__name", "pk")))
        request._agent_memberships = cached  # type: ignore[attr-defined]
    return cached[1]


def agent_memberships(request: HttpRequest) -> list[Membership]:
    """The signed-in user's active memberships, in organisation name order."""
    return [m for m in _own_memberships(request) if m.is_active]


def pending_invitations(request: HttpRequest) -> list[Membership]:
    """Organisations that invited the signed-in user, waiting for their answer."""
    return [m for m in _own_memberships(request) if m.invitation_pending and not m.is_active]


def active_membership(request: HttpRequest) -> Membership | None:
    """The signed-in agent's membership in the organisation chosen for this session (or
    their first one)."""
    memberships = agent_memberships(request)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_ORG_KEY) if hasattr(request, "session") else None
    if chosen:
        for membership in memberships:
            if str(membership.organization_id) == str(chosen):
                return membership
    return min(memberships, key=lambda m: (m.created_at, m.pk))


class ChannelKeyForbidden(Exception):
    """A channel-bound API key asked for something only an organisation-wide key may read
    (the live stream shows every event of the organisation, as GET /api/v1/tickets does
    its tickets)."""


class IssuerForbidden(Exception):
    """An API key whose issuing agent lacks the permission the request needs (or has left)."""
