from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "atende.workspace"
    verbose_name = _("Agent workspace")

    def ready(self) -> None:
        from atende.workspace.org_lists import connect_signals

        connect_signals()
