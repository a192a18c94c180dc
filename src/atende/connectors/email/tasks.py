from django.tasks import task

from atende.connectors.email import polling


@task
def poll_email_channel(channel_id: int) -> None:
    """One poll of the channel's mailbox; a backlog left when the poll's time budget ran out
    is taken up by the same task queued again, behind the tasks (other channels' polls
    among them) queued meanwhile: no mailbox keeps a worker for itself."""
    report = polling.poll_channel(channel_id)
    if report is not None and report.more:
        poll_email_channel.enqueue(channel_id)


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
