"""The portal's own state: customer accounts and their sessions, the organisation's portal
settings (form, reopen period, appearance) and the managed ticket categories."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import TenantModel


class Category(TenantModel):
    """A ticket category of the organisation's managed list. The ticket keeps the name
    (`Ticket.category`), so renaming or deactivating one leaves old tickets as they were."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ("position", "name")
        constraints = [models.UniqueConstraint(fields=["organization", "name"],
                                               name="uniq_portal_category_name")]

    def __str__(self) -> str:
        return self.name


class PortalSettings(TenantModel):
    """One row per organisation, created with the defaults on first use
    (`settings_for`)."""

    # The form's fields in order: dicts as `form_fields.Field` reads them.
    form_fields = models.JSONField(_("form fields"), default=list)
    reopen_days = models.PositiveIntegerField(
        _("reopen period (days)"), default=7,
        help_text=_("How long after a ticket is resolved the customer may still reopen it "
                    "by commenting."))
    primary_color = models.CharField(_("primary colour"), max_length=7, default="#1f4e8c")
    secondary_color = models.CharField(_("secondary colour"), max_length=7, default="#ffffff")
    welcome_title = models.CharField(_("welcome title"), max_length=200, blank=True)
    welcome_text = models.TextField(_("welcome text"), blank=True)
    logo = models.FileField(_("logo"), upload_to="portal/logos/", blank=True, max_length=300)
    favicon = models.FileField(_("favicon"), upload_to="portal/favicons/", blank=True,
                               max_length=300)

    class Meta:
        verbose_name = _("portal settings")
        verbose_name_plural = _("portal settings")
        constraints = [models.UniqueConstraint(fields=["organization"],
                                               name="uniq_portal_settings_org")]

    def __str__(self) -> str:
        return f"portal settings of {self.organization_id}"


class CustomerAccount(TenantModel):
    """A customer's sign-in to one organisation's portal. The customer is the contact:
    the portal shows the contact's tickets from every channel."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("contact"))
    email = models.EmailField(_("e-mail"))  # lower-case
    password = models.CharField(max_length=128)
    # Bumped by every one-time link used and every password change: older links die.
    link_generation = models.PositiveIntegerField(default=0)
    verified_at = models.DateTimeField(default=timezone.now)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("customer account")
        verbose_name_plural = _("customer accounts")
        constraints = [models.UniqueConstraint(fields=["organization", "email"],
                                               name="uniq_portal_account_email")]

    def __str__(self) -> str:
        return self.email


class PortalSession(TenantModel):
    """A signed-in browser: the cookie holds a random key, the row its SHA-256."""

    account = models.ForeignKey(CustomerAccount, on_delete=models.CASCADE,
                                related_name="sessions")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
