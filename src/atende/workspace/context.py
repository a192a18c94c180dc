"""What every workspace page's frame needs: the agent, the organisations and the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from atende.tenancy.models import Membership, Permission, Presence


def workspace(request: HttpRequest) -> dict[str, Any]:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        return {}

    def memberships() -> list[Membership]:
        # The agent's own memberships in every organisation (the switch lists them);
        # called by the template only when it draws the switch.
        return list(
            Membership.objects.filter(user_id=membership.user_id, is_active=True)
            .select_related("organization").order_by("organization__name")
        )

    return {
        "membership": membership,
        "current_org": membership.organization,
        "can_configure": membership.has_permission(Permission.GENERAL_SETTINGS),
        "memberships": memberships,
        "presence_choices": Presence.choices,
    }
