from django.tasks import task
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from atende.connectors.meta_messaging import consent, receive


@task
def drain_meta_channel(channel_id: int) -> None:
    """Every waiting event of an Instagram or Messenger channel (receive.request_drain)."""
    receive.drain_channel(channel_id)


@task
def process_meta_events(channel_id: int, event_ids: list[int], attempt: int = 0) -> None:
    """Events that waited for a download or for their message, tried again."""
    receive.process_ids(channel_id, event_ids, attempt)


@db_periodic_task(crontab(minute="41"))
def refresh_meta_tokens() -> None:
    """Long-lived tokens renewed days before they expire."""
    consent.refresh_due()
