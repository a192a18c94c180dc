from django.tasks import task

from atende.connectors.email import polling


@task
def poll_email_channel(channel_id: int) -> None:
    polling.poll_channel(channel_id)


@task
def send_ticket_notification(organization_id: int, ticket_id: int, event: str,
                             attempt: int = 1) -> None:
    from atende.connectors.email.notifications import send_notification

    send_notification(organization_id, ticket_id, event, attempt)


def enqueue_due_polls() -> int:
    ids = polling.due_channel_ids()
    for channel_id in ids:
        poll_email_channel.enqueue(channel_id)
    return len(ids)
