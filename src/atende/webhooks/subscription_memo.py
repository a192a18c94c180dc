"""Which subscriptions of an organisation are active, read once per transaction.

A service call emits several events in one transaction (an inbound mail: ticket.created and
message.created), and each event fans out to the organisation's webhook subscriptions.
Reading them once per transaction instead of once per event is correct across processes:
every new transaction reads the table again, so a subscription committed by another
process (the web screen, the API) gets the very next event emitted in a transaction that
starts after it. A change made in this process (even inside the current transaction)
drops the memo at once.

The memo is tied to a transaction through an `on_commit` marker: it is valid while the
marker is still pending on the connection. Commit runs and clears the pending callbacks,
and a rollback discards them, so either ends the memo; a rolled-back savepoint that
registered the marker ends it too (conservatively).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from atende.webhooks.models import WebhookSubscription

Active = list[tuple[int, frozenset[str]]]  # (subscription id, its event types)


class _Memo:
    __slots__ = ("by_org", "position")

    def __init__(self, position: int) -> None:
        self.position = position  # where its marker sits in connection.run_on_commit
        self.by_org: dict[int, Active] = {}

    def __call__(self) -> None:
        """The on_commit marker itself; committing ends the memo."""
        self.by_org.clear()


def _query(organization_id: int) -> Active:
    rows = WebhookSubscription.objects.for_org(organization_id).filter(
        is_active=True).values_list("pk", "events")
    return [(pk, frozenset(events or ())) for pk, events in rows]


def _current_memo(connection: Any) -> _Memo | None:
    memo: _Memo | None = getattr(connection, "_atende_webhook_memo", None)
    if memo is None or not connection.in_atomic_block:
        return None
    pending = connection.run_on_commit
    if len(pending) > memo.position and pending[memo.position][1] is memo:
        return memo
    return None


def active_subscriptions(organization_id: int) -> Active:
    """(id, event types) of the organisation's active subscriptions, as of this
    transaction's first look (outside a transaction: read now)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return _query(organization_id)
    memo = _current_memo(connection)
    if memo is None:
        memo = _Memo(len(connection.run_on_commit))
        connection.on_commit(memo)
        connection._atende_webhook_memo = memo
    found = memo.by_org.get(organization_id)
    if found is None:
        found = memo.by_org[organization_id] = _query(organization_id)
    return found


def forget() -> None:
    """Drop the memo of this thread's connection (a subscription changed here)."""
    connection = transaction.get_connection()
    connection._atende_webhook_memo = None


@receiver(post_save, sender=WebhookSubscription, dispatch_uid="atende-webhook-memo-save")
@receiver(post_delete, sender=WebhookSubscription, dispatch_uid="atende-webhook-memo-delete")
def _subscription_changed(**_: object) -> None:
    forget()
