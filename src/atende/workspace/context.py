"""What every workspace page's frame needs: the agent, the organisations and the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from atende.tenancy.access import agent_memberships, pending_invitations
from atende.tenancy.models import Membership, Permission, Presence


def workspace(request: HttpRequest) -> dict[str, Any]:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        return {"pending_invitations": pending_invitations(request)}

    return {
        "pending_invitations": pending_invitations(request),
        "membership": membership,
        "current_org": membership.organization,
        "can_configure": membership.has_permission(Permission.GENERAL_SETTINGS),
        # The agent's memberships in every organisation (the switch lists them): the rows
        # `active_membership` read for this request, no second query.
        "memberships": agent_memberships(request),
        "presence_choices": Presence.choices,
    }
