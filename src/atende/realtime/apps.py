from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RealtimeConfig(AppConfig):
    name = "atende.realtime"
    verbose_name = _("Realtime")
