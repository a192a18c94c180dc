"""Telegram's acknowledgement on the kit's group commit (`channels.group_commit`), on
PostgreSQL: its drain (one per channel, see `receive.schedule_processing`).

Settings (optional): `TELEGRAM_GROUP_COMMIT = False` keeps the ORM path on PostgreSQL too;
the in-flight and linger settings are WhatsApp's (`WHATSAPP_GROUP_COMMIT_IN_FLIGHT`,
`WHATSAPP_GROUP_COMMIT_LINGER_MS`), one tuning for the machine's webhooks.
"""

from __future__ import annotations

from django.conf import settings

from atende.channels import group_commit as kit
from atende.channels.group_commit import Drains
from atende.connectors.telegram.receive import (
    DRAIN_FLAG_SECONDS,
    drain_flag_keys,
    enqueue_drain,
    request_drain,
)

APPLICATION_NAME = "atende-telegram-ack"  # to tell its connections apart in pg_stat_activity


def _enqueue(channel_id: int, _ids: list[int], _shard: int, _shards: int) -> None:
    enqueue_drain(channel_id, flagged=True)


# A quarantined update is not put back by a redelivery (the ORM path keeps it too): an
# admin processes it again from the channel's log.
DRAINS = Drains(name="telegram", flag_keys=drain_flag_keys, enqueue=_enqueue,
                request=request_drain, flag_seconds=DRAIN_FLAG_SECONDS, max_redeliveries=0)


def enabled() -> bool:
    return bool(settings.IS_POSTGRES and getattr(settings, "TELEGRAM_GROUP_COMMIT", True))


def for_this_loop() -> kit.GroupCommit:
    return kit.webhook_commit(DRAINS, APPLICATION_NAME)


async def close_for_this_loop() -> None:
    await kit.close_for_this_loop(DRAINS)
