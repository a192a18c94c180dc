from django.tasks import task

from atende.connectors.telegram import receive


@task
def process_telegram_events(channel_id: int, event_ids: list[int], attempt: int = 0) -> None:
    """Updates whose file download failed for a passing reason, tried again."""
    receive.process_ids(channel_id, event_ids, attempt)


@task
def drain_telegram_channel(channel_id: int) -> None:
    """Every pending update of a channel, in batches (see receive.schedule_processing)."""
    receive.drain_channel(channel_id)
