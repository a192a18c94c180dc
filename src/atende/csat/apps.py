from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CsatConfig(AppConfig):
    name = "atende.csat"
    label = "csat"
    verbose_name = _("Customer satisfaction")

    def ready(self) -> None:
        from atende.channels import survey_replies
        from atende.csat import replies, scheduling
        from atende.events import listen

        listen("ticket.status_changed", scheduling.on_status_changed)
        survey_replies.register(replies.take_reply)
