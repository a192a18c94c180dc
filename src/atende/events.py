"""Domain events: one call inside a service's transaction fans out to the realtime outbox
and to webhook subscriptions. Nothing leaves the process before the transaction commits."""

from collections.abc import Callable, Sequence
from typing import Any

from atende.realtime.publish import publish, publish_many
from atende.webhooks.services import fan_out, fan_out_many

Listener = Callable[[int, str, dict[str, Any]], None]
BatchListener = Callable[[int, str, list[dict[str, Any]]], None]
_listeners: dict[str, list[Listener]] = {}
_batch_listeners: dict[str, list[BatchListener]] = {}


def listen(event_type: str, listener: Listener) -> None:
    """Let an app react to a domain event without the emitting domain importing it (a
    connector registers in its AppConfig.ready). Listeners run inside the emitter's
    transaction: they must only defer work (on commit, as a task)."""
    registered = _listeners.setdefault(event_type, [])
    if listener not in registered:
        registered.append(listener)


def listen_many(event_type: str, listener: BatchListener) -> None:
    """`listen`, but the listener gets all the payloads of one `emit_many` of that type at
    once (in order): one look-up for a whole ingest batch instead of one per ticket."""
    registered = _batch_listeners.setdefault(event_type, [])
    if listener not in registered:
        registered.append(listener)


def emit(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    publish(organization_id, event_type, payload)
    fan_out(organization_id, event_type, payload)
    for listener in _listeners.get(event_type, ()):
        listener(organization_id, event_type, payload)
    for batch_listener in _batch_listeners.get(event_type, ()):
        batch_listener(organization_id, event_type, [payload])


def emit_many(organization_id: int, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """`emit` for several events, in order: one outbox INSERT and one deliveries INSERT
    whatever their number (batched ingest)."""
    publish_many(organization_id, events)
    fan_out_many(organization_id, events)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event_type, payload in events:
        for listener in _listeners.get(event_type, ()):
            listener(organization_id, event_type, payload)
        by_type.setdefault(event_type, []).append(payload)
    for event_type, payloads in by_type.items():
        for batch_listener in _batch_listeners.get(event_type, ()):
            batch_listener(organization_id, event_type, payloads)
