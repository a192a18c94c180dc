"""Outbound webhook subscriptions and their delivery log."""

import secrets
import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.crypto import decrypt_json, encrypt_json
from atende.tenancy.models import TenantModel


class EventType(models.TextChoices):
    TICKET_CREATED = "ticket.created", "ticket.created"
    TICKET_UPDATED = "ticket.updated", "ticket.updated"
    TICKET_STATUS_CHANGED = "ticket.status_changed", "ticket.status_changed"
    TICKET_ANSWER_REMINDER = "ticket.answer_reminder", "ticket.answer_reminder"
    TICKET_SLA_BREACHED = "ticket.sla_breached", "ticket.sla_breached"
    MESSAGE_CREATED = "message.created", "message.created"
    MESSAGE_STATUS_CHANGED = "message.status_changed", "message.status_changed"
    CHANNEL_UPDATED = "channel.updated", "channel.updated"
    AGENT_UPDATED = "agent.updated", "agent.updated"
    CONTACT_UPDATED = "contact.updated", "contact.updated"
    CONTACT_MERGED = "contact.merged", "contact.merged"
    CSAT_RECEIVED = "csat.received", "csat.received"


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookSubscription(TenantModel):
    url = models.URLField(_("URL"), max_length=1000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    encrypted_secret = models.TextField(editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["organization", "is_active"], name="webhook_org_active")]

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        return str(decrypt_json(self.encrypted_secret).get("secret", ""))

    @secret.setter
    def secret(self, value: str) -> None:
        self.encrypted_secret = encrypt_json({"secret": value})


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")


class WebhookDelivery(TenantModel):
    """One event to one subscriber; retried with exponential backoff until it succeeds or
    the retry window closes."""

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    state = models.CharField(max_length=12, choices=DeliveryState.choices,
                             default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="delivery_sub_recent"),
            # The sweeper looks for due retries.
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
        ]
