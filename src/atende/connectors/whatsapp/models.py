"""What the WhatsApp channel needs beyond the shared ticket models."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import TenantModel


class TemplateMessage(TenantModel):
    """Marks a timeline message as an approved template (HSM) to send, with its variables;
    the connector sends it as a template instead of free text."""

    message = models.OneToOneField("tickets.Message", on_delete=models.CASCADE,
                                   related_name="whatsapp_template")
    name = models.CharField(_("template"), max_length=512)
    language = models.CharField(_("language"), max_length=20)
    params = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("WhatsApp template message")
        verbose_name_plural = _("WhatsApp template messages")

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"
