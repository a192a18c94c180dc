from django.tasks import task

from atende.webhooks import services


@task
def deliver_webhook(delivery_id: int) -> None:
    services.attempt_delivery(delivery_id)
