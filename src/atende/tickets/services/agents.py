"""Write paths for an agent's place in the organisation (their Membership) that the ticket
side acts on: an inactive agent is offered no ticket (assignment) and cannot sign in.

Here rather than in tenancy because the change is announced as an event (atende.events),
which reaches realtime and webhooks: both sit on tenancy, so tenancy cannot emit."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from atende.errors import DomainError
from atende.events import emit
from atende.tenancy.audit import record_settings_change
from atende.tenancy.models import Membership


def agent_payload(membership: Membership) -> dict[str, Any]:
    return {"id": membership.pk, "user_id": membership.user_id, "role": membership.role,
            "is_active": membership.is_active}


@transaction.atomic
def set_agent_active(membership: Membership, active: bool, *,
                     actor: Membership | None) -> Membership:
    """Turn the agent on or off: the change, its audit entry and an `agent.updated` event
    (delivered once the transaction commits). Nothing is recorded when it already is so.
    Raises DomainError (code "conflict") for an agent turning themselves off."""
    if actor is not None and actor.pk == membership.pk and not active:
        raise DomainError(_("You cannot deactivate yourself."), code="conflict")
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if active and locked.invitation_pending:
        raise DomainError(_("This person has not accepted the invitation yet."),
                          code="conflict")
    membership.is_active = active
    if locked.is_active == active:
        return membership
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    record_settings_change(locked.organization_id, actor,
                           "activated" if active else "deactivated", "agent", locked.pk,
                           "is_active", not active, active)
    emit(locked.organization_id, "agent.updated",
         {**agent_payload(locked), "changes": ["is_active"]})
    return membership


@transaction.atomic
def accept_invitation(user_id: int, membership_id: int) -> Membership | None:
    """The invited person joins: their pending membership becomes active, with an audit
    entry and an `agent.updated` event. None when there is no such pending invitation of
    theirs (already answered, withdrawn, or someone else's)."""
    locked = (Membership.objects.select_for_update()
              .filter(pk=membership_id, user_id=user_id, invitation_pending=True).first())
    if locked is None:
        return None
    locked.invitation_pending = False
    locked.is_active = True
    locked.save(update_fields=["invitation_pending", "is_active"])
    record_settings_change(locked.organization_id, None, "accepted", "agent", locked.pk,
                           "invitation_pending", True, False)
    emit(locked.organization_id, "agent.updated",
         {**agent_payload(locked), "changes": ["is_active"]})
    return locked


@transaction.atomic
def decline_invitation(user_id: int, membership_id: int) -> bool:
    """The invited person says no: the pending membership goes (the organisation may invite
    again). False when there was no such pending invitation of theirs."""
    locked = (Membership.objects.select_for_update()
              .filter(pk=membership_id, user_id=user_id, invitation_pending=True).first())
    if locked is None:
        return False
    record_settings_change(locked.organization_id, None, "declined", "agent", locked.pk,
                           "invitation_pending", True, None)
    locked.delete()
    return True
