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


class SentPart(TenantModel):
    """One provider message of an answer: text and each file go out as separate WhatsApp
    messages, each with its own wamid and statuses. Recorded as each part is accepted, so
    a retry after a partial failure sends only what is missing."""

    message = models.ForeignKey("tickets.Message", on_delete=models.CASCADE,
                                related_name="whatsapp_parts")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE,
                                related_name="+")
    position = models.PositiveSmallIntegerField()
    wamid = models.CharField(max_length=255)
    status = models.CharField(max_length=20, default="sent")
    failure_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("WhatsApp message part")
        verbose_name_plural = _("WhatsApp message parts")
        constraints = [
            models.UniqueConstraint(fields=["message", "position"],
                                    name="whatsapp_part_position"),
            # Also the index statuses are looked up by.
            models.UniqueConstraint(fields=["channel", "wamid"], name="whatsapp_part_wamid"),
        ]

    def __str__(self) -> str:
        return self.wamid
