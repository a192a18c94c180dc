from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulltextConfig(AppConfig):
    name = "atende.fulltext"
    verbose_name = _("Full-text search")

    def ready(self) -> None:
        from atende.fulltext import sqlite_index

        sqlite_index.install()
