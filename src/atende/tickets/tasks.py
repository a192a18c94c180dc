from django.tasks import task

from atende.tickets.services import sending


@task
def send_message(message_id: int) -> None:
    sending.send_queued_message(message_id)


@task
def auto_assign_ticket(ticket_id: int) -> None:
    from atende.tickets.services.assignment import assign_next

    assign_next(ticket_id)


@task
def assign_waiting_tickets(membership_id: int) -> None:
    from atende.tickets.services.assignment import assign_waiting

    assign_waiting(membership_id)
