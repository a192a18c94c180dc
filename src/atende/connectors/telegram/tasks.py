from django.tasks import task

from atende.connectors.telegram import receive


@task
def process_telegram_events(channel_id: int, event_ids: list[int], attempt: int = 0) -> None:
    receive.process_ids(channel_id, event_ids, attempt)
