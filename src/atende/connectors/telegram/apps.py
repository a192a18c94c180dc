from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelegramConfig(AppConfig):
    """No models: a Telegram channel is the kit's `Channel` (token and webhook secret in
    its encrypted secrets). An app so that the task worker finds `tasks`."""

    name = "atende.connectors.telegram"
    label = "telegram"
    verbose_name = _("Telegram")

    def ready(self) -> None:
        from atende.connectors.telegram import webhook_channels  # noqa: F401 - its signals
