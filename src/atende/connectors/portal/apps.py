from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The customer portal: a channel whose provider is Atende itself. It keeps the
    customers' accounts and sessions, the form's layout, the managed ticket categories and
    the portal's appearance."""

    name = "atende.connectors.portal"
    label = "portal"
    verbose_name = _("Customer portal")
