from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsumidorGovConfig(AppConfig):
    """Consumidor.gov.br complaints: the platform's header data and status per protocol,
    next to the kit's `Channel` (credentials in its encrypted secrets)."""

    name = "atende.connectors.consumidor_gov"
    label = "consumidor_gov"
    verbose_name = _("Consumidor.gov.br")

    def ready(self) -> None:
        from atende.connectors.consumidor_gov import distribution

        distribution.connect()
