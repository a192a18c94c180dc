from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    """The providers' packages; their models' history before the channel kit moved out."""

    name = "atende.connectors"
    verbose_name = _("Channels")
