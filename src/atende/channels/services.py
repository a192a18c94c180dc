"""Write paths for a channel's own settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from atende.channels.models import Channel
from atende.events import emit
from atende.tenancy.audit import record_settings_change
from atende.tenancy.models import Membership


def channel_payload(channel: Channel) -> dict[str, Any]:
    return {"id": channel.pk, "kind": channel.kind, "name": channel.name,
            "is_active": channel.is_active}


@transaction.atomic
def set_channel_active(channel: Channel, active: bool, *, actor: Membership | None) -> Channel:
    """Turn the channel on or off: the change, its audit entry and a `channel.updated` event
    (delivered once the transaction commits). Nothing is recorded when it already is so."""
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    channel.is_active = active
    if locked.is_active == active:
        return channel
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    record_settings_change(locked.organization_id, actor,
                           "activated" if active else "deactivated", "channel", locked.pk,
                           "is_active", not active, active)
    emit(locked.organization_id, "channel.updated",
         {**channel_payload(locked), "changes": ["is_active"]})
    return channel
