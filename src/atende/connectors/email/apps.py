from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmailChannelConfig(AppConfig):
    name = "atende.connectors.email"
    label = "email_channel"
    verbose_name = _("E-mail channel")

    def ready(self) -> None:
        from atende.connectors.email import ticket_events
        from atende.events import listen, listen_many

        listen_many("ticket.created", ticket_events.on_tickets_created)
        listen("ticket.status_changed", ticket_events.on_status_changed)
        listen("ticket.answer_reminder", ticket_events.on_answer_reminder)
