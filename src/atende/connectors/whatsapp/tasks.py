from django.tasks import task

from atende.connectors.whatsapp import receive


@task
def process_whatsapp_event(event_id: int, attempt: int = 0) -> None:
    receive.process_event(event_id, attempt)
