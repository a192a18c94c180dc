from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "atende.connectors"
    verbose_name = _("Channels")

    def ready(self) -> None:
        from atende.channels import reprocess
        from atende.connectors.api.inbound import reprocess as reprocess_api

        # The API connector lives in this app (it has no AppConfig of its own).
        reprocess.register("api", reprocess_api)
