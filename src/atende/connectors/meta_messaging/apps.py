from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetaMessagingConfig(AppConfig):
    """No models: an Instagram or Messenger channel is the kit's `Channel` (the app secret,
    the verify token and the page's tokens in its encrypted secrets). An app so that the
    task worker finds `tasks`."""

    name = "atende.connectors.meta_messaging"
    label = "meta_messaging"
    verbose_name = _("Instagram and Messenger")

    def ready(self) -> None:
        from atende.connectors.meta_messaging import webhook_channels  # noqa: F401 - signals
