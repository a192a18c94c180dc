from django.tasks import task

from atende.connectors.whatsapp import bot, receive, ticket_events


@task
def process_whatsapp_event(event_id: int, attempt: int = 0) -> None:
    receive.process_event(event_id, attempt)


@task
def send_ticket_event_template(organization_id: int, ticket_id: int, event: str) -> None:
    ticket_events.send_for_ticket(organization_id, ticket_id, event)


@task
def forward_to_bot(entry_id: int, attempt: int = 0) -> None:
    bot.forward(entry_id, attempt)


@task
def drain_whatsapp_channel(channel_id: int, event_ids: list[int] | None = None,
                           shard: int = 0, shards: int = 1) -> None:
    """Every pending event of a channel (or of one shard of it), in batches (see
    receive.schedule_processing)."""
    receive.drain_channel(channel_id, event_ids, shard, shards)
