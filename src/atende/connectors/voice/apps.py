from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    """The phone channel: numbers, the IVR ("URA") and the calls it answered."""

    name = "atende.connectors.voice"
    label = "voice"
    verbose_name = _("Phone")
