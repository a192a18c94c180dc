"""Contacts (customers) and their identities on each channel."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import TenantModel


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    INSTAGRAM = "instagram", _("Instagram")
    TELEGRAM = "telegram", _("Telegram")
    CPF = "cpf", _("CPF")
    EXTERNAL = "external", _("External id")


class Contact(TenantModel):
    name = models.CharField(_("name"), max_length=200, blank=True)
    # Set when this contact was merged into another; kept so old references still resolve.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class ContactIdentity(TenantModel):
    """One way to reach a contact. `value` is normalised (see contacts.identities)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=20, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=320)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "value"], name="uniq_identity_per_tenant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
