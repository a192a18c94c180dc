"""WhatsApp's acknowledgement on the kit's group commit (`channels.group_commit`): its
drains (sharded per channel, see `receive.schedule_processing`) and its settings.

Settings (optional): `WHATSAPP_GROUP_COMMIT = False` keeps the ORM path on PostgreSQL too;
`WHATSAPP_GROUP_COMMIT_IN_FLIGHT` (1) flushes at the database at once per process;
`WHATSAPP_GROUP_COMMIT_LINGER_MS` (2; 0 turns the wait off).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from atende.channels import group_commit as kit
from atende.channels.group_commit import INSERT, WRITTEN, Drains, Unavailable, Unstorable
from atende.connectors.whatsapp.receive import (
    DRAIN_FLAG_SECONDS,
    MAX_REDELIVERY_RETRIES,
    drain_flag_keys,
    enqueue_drain,
    request_drain,
)

__all__ = ["INSERT", "WRITTEN", "GroupCommit", "Unavailable", "Unstorable", "close_for_this_loop",
           "conninfo", "enabled", "for_this_loop"]
APPLICATION_NAME = "atende-whatsapp-ack"  # to tell its connections apart in pg_stat_activity


def _enqueue(channel_id: int, ids: list[int], shard: int, shards: int) -> None:
    enqueue_drain(channel_id, ids, shard, shards, flagged=True)


DRAINS = Drains(name="whatsapp", flag_keys=drain_flag_keys, enqueue=_enqueue,
                request=request_drain, flag_seconds=DRAIN_FLAG_SECONDS,
                max_redeliveries=MAX_REDELIVERY_RETRIES)


class GroupCommit(kit.GroupCommit):
    """The kit's group commit with WhatsApp's drains."""

    def __init__(self, conninfo: str, **options: Any) -> None:
        super().__init__(conninfo, DRAINS, **options)


def enabled() -> bool:
    return bool(settings.IS_POSTGRES and getattr(settings, "WHATSAPP_GROUP_COMMIT", True))


def conninfo() -> str:
    return kit.conninfo(APPLICATION_NAME)


def _redis_url() -> str | None:
    return kit.redis_url()


def for_this_loop() -> kit.GroupCommit:
    def make() -> kit.GroupCommit:
        in_flight = int(getattr(settings, "WHATSAPP_GROUP_COMMIT_IN_FLIGHT", 1))
        linger = float(getattr(settings, "WHATSAPP_GROUP_COMMIT_LINGER_MS", 2)) / 1000
        return GroupCommit(conninfo(), pool_size=in_flight + 1, in_flight=in_flight,
                           linger=linger, redis_url=kit.redis_url())

    return kit.for_this_loop(DRAINS, make)


async def close_for_this_loop() -> None:
    await kit.close_for_this_loop(DRAINS)
