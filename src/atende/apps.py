from django.apps import AppConfig


class AtendeConfig(AppConfig):
    name = "atende"
    verbose_name = "Atende"

    def ready(self) -> None:
        from atende import jobs  # noqa: F401  registers the periodic jobs with Huey
