from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WhatsAppConfig(AppConfig):
    name = "atende.connectors.whatsapp"
    label = "whatsapp"
    verbose_name = _("WhatsApp")

    def ready(self) -> None:
        from atende.connectors.whatsapp import webhook_channels  # noqa: F401 - its signals
        from atende.connectors.whatsapp.ticket_events import (
            on_answer_reminder,
            on_status_changed,
        )
        from atende.events import listen

        listen("ticket.status_changed", on_status_changed)
        listen("ticket.answer_reminder", on_answer_reminder)
