"""Instagram's and Messenger's acknowledgement on the kit's group commit
(`channels.group_commit`), on PostgreSQL: one drain per channel (`receive.request_drain`).

Settings (optional): `META_GROUP_COMMIT = False` keeps the ORM path on PostgreSQL too; the
in-flight and linger settings are WhatsApp's, one tuning for the machine's webhooks."""

from __future__ import annotations

from django.conf import settings

from atende.channels import group_commit as kit
from atende.channels.group_commit import Drains
from atende.connectors.meta_messaging.receive import (
    DRAIN_FLAG_SECONDS,
    drain_flag_keys,
    enqueue_drain,
    request_drain,
)

APPLICATION_NAME = "atende-meta-ack"


def _enqueue(channel_id: int, _ids: list[int], _shard: int, _shards: int) -> None:
    enqueue_drain(channel_id, flagged=True)


DRAINS = Drains(name="meta", flag_keys=drain_flag_keys, enqueue=_enqueue,
                request=request_drain, flag_seconds=DRAIN_FLAG_SECONDS, max_redeliveries=0)


def enabled() -> bool:
    return bool(settings.IS_POSTGRES and getattr(settings, "META_GROUP_COMMIT", True))


def for_this_loop() -> kit.GroupCommit:
    return kit.webhook_commit(DRAINS, APPLICATION_NAME)


async def close_for_this_loop() -> None:
    await kit.close_for_this_loop(DRAINS)
