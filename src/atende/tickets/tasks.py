from django.tasks import task

from atende.tickets.services import sending


@task
def send_message(message_id: int) -> None:
    sending.send_queued_message(message_id)
