"""Contacts (customers) and their identities on each channel."""

from django.conf import settings
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
    MESSENGER = "messenger", _("Messenger")
    CPF = "cpf", _("CPF")
    EXTERNAL = "external", _("External id")


class Company(TenantModel):
    """An organisation or company a contact works for; a contact belongs to at most one."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=253, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_company_name")
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TenantModel):
    name = models.CharField(_("name"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="contacts", verbose_name=_("company"))
    # Set when this contact was merged into another; kept so old references still resolve.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            # The contacts screen and GET /api/v1/contacts: newest first, keyset on id,
            # merged contacts left out.
            models.Index(fields=["organization", "-id"], name="contact_org_live",
                         condition=models.Q(merged_into__isnull=True)),
        ]

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


class ContactAuditEntry(TenantModel):
    """Who changed a contact (an edit, a merge), what moved, and when."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="audit_entries")
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=40)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contact change")
        verbose_name_plural = _("contact changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "created_at"], name="contact_audit_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.contact_id}"
