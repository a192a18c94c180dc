from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    """The channel kit: what every channel shares (models, connector protocol, registry,
    raw-event pipeline). It sits below `tickets`; the providers live in `connectors`."""

    name = "atende.channels"
    verbose_name = _("Channels")
