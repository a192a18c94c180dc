"""What every workspace page's frame needs: the agent, the organisations and the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from atende.tenancy.access import agent_memberships, pending_invitations
from atende.tenancy.models import Membership, Presence
from atende.workspace.access import SETTINGS_PERMISSIONS


def workspace(request: HttpRequest) -> dict[str, Any]:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        return {"pending_invitations": pending_invitations(request)}

    granted = membership.permissions()
    return {
        "pending_invitations": pending_invitations(request),
        "membership": membership,
        "current_org": membership.organization,
        # Menus show only what the agent may open (the URL answers 403 all the same).
        "granted": granted,
        "can_configure": any(p in granted for p in SETTINGS_PERMISSIONS),
        # The agent's memberships in every organisation (the switch lists them): the rows
        # `active_membership` read for this request, no second query.
        "memberships": agent_memberships(request),
        "presence_choices": Presence.choices,
    }
