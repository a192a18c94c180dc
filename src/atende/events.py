"""Domain events: one call inside a service's transaction fans out to the realtime outbox
and to webhook subscriptions. Nothing leaves the process before the transaction commits."""

from typing import Any

from atende.realtime.publish import publish
from atende.webhooks.services import fan_out


def emit(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    publish(organization_id, event_type, payload)
    fan_out(organization_id, event_type, payload)
