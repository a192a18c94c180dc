"""A configured channel, and the raw log of what came in through it."""

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.automation.models import BusinessCalendar
from atende.crypto import decrypt_json, encrypt_json
from atende.tenancy.models import Service, TenantModel


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WEBCHAT = "webchat", _("Chat")
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    VOICE = "voice", _("Phone")
    INSTAGRAM = "instagram", _("Instagram")
    TELEGRAM = "telegram", _("Telegram")
    CONSUMIDOR_GOV = "consumidor_gov", _("Consumidor.gov.br")
    MESSENGER = "messenger", _("Messenger")


class Channel(TenantModel):
    """A channel a user configured: its connector is chosen by `kind`.

    Non-secret settings are plain JSON; secrets (passwords, tokens, webhook signing
    secrets) are Fernet-encrypted at rest and read through `secrets`.
    """

    kind = models.CharField(_("type"), max_length=30, choices=ChannelKind.choices)
    name = models.CharField(_("name"), max_length=120)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("service")
    )
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    # Empty: the service's business hours, or 24x7 when it has none (`attended_hours`).
    business_calendar = models.ForeignKey(
        "automation.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("business hours"),
    )
    encrypted_secrets = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        # The tables kept their names when the models moved here from `connectors`.
        db_table = "connectors_channel"
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        indexes = [models.Index(fields=["organization", "kind"], name="channel_org_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def attended_hours(self) -> BusinessCalendar | None:
        """The calendar that says when this channel is attended: its own, else its
        service's; None means 24x7. Load with `service__business_calendar` to read it
        without queries."""
        if self.business_calendar_id is not None:
            return self.business_calendar
        service = self.service if self.service_id is not None else None
        return service.business_calendar if service is not None else None

    @property
    def secrets(self) -> dict[str, Any]:
        return decrypt_json(self.encrypted_secrets)

    @secrets.setter
    def secrets(self, value: dict[str, Any]) -> None:
        self.encrypted_secrets = encrypt_json(value)


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    DUPLICATE = "duplicate", _("Duplicate")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundEvent(TenantModel):
    """The raw event as the provider sent it, stored before anything else happens.

    Keyed by (channel, provider id) so a redelivery is recognised before processing.
    """

    # No index of its own: every index below starts with the channel, and each index is
    # written by every webhook event.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="inbound_events",
                                db_index=False)
    provider_id = models.CharField(max_length=255)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Times a redelivery of the quarantined event put it back to be processed (bounded by
    # the connector). A database default: the acknowledgement inserts rows without the ORM.
    redelivery_retries = models.PositiveSmallIntegerField(default=0, db_default=0)

    class Meta:
        db_table = "connectors_inboundevent"
        constraints = [
            models.UniqueConstraint(fields=["channel", "provider_id"], name="uniq_inbound_event")
        ]
        indexes = [
            models.Index(fields=["channel", "-received_at"], name="inbound_channel_recent"),
            # The channel's log filtered by status, newest first (and the quarantine badge);
            # also the drains' and the sweep's events still to process of a channel. (A
            # partial index of those alone slowed every webhook's acknowledgement more than
            # it sped the drains: docs/benchmarks-history.md.)
            models.Index(fields=["channel", "status", "-received_at"],
                         name="inbound_channel_status"),
        ]


class RefusedWebhook(TenantModel):
    """A webhook call refused for a wrong or missing secret (rate-limited, see refusals)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    remote_addr = models.CharField(max_length=45, blank=True)
    reason = models.CharField(max_length=200)
    # Refused calls in the minute before this row that were only counted, not written.
    skipped = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "connectors_refusedwebhook"
        indexes = [models.Index(fields=["channel", "-at"], name="refused_webhook_recent")]
