"""Recording a change to the organisation's settings (SettingsAuditEntry)."""

from __future__ import annotations

from typing import Any

from atende.tenancy.models import Membership, SettingsAuditEntry


def record_settings_change(organization_id: int, actor: Membership | None, action: str,
                           object_type: str, object_id: int, field: str = "",
                           before: Any = None, after: Any = None) -> SettingsAuditEntry:
    return SettingsAuditEntry.objects.create(
        organization_id=organization_id, actor_user_id=actor.user_id if actor else None,
        action=action, object_type=object_type, object_id=object_id, field=field,
        before=before, after=after)
