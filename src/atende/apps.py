from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AtendeConfig(AppConfig):
    name = "atende"
    verbose_name = "Atende"

    def ready(self) -> None:
        from atende import jobs  # noqa: F401  registers the periodic jobs with Huey


class AtendeAdminConfig(admin_apps.AdminConfig):
    """Django's admin with Atende's site: superusers only, sign-in limits (admin_site.py)."""

    default = False  # named in INSTALLED_APPS; AtendeConfig stays this module's default

    default_site = "atende.admin_site.AtendeAdminSite"
