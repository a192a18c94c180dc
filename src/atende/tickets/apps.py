from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "atende.tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from atende.realtime.views import set_agent_filter
        from atende.tickets.event_visibility import stream_visibility
        from atende.tickets.services import ticket_numbers

        post_migrate.connect(ticket_numbers.ensure_sequences, sender=self)
        set_agent_filter(stream_visibility)
