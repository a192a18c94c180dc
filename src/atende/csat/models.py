"""The satisfaction survey of a ticket: its invitation and its one answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import TenantModel

SCORES = (1, 2, 3, 4, 5)


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    # The channel cannot invite (no hook, no address): the customer may still answer.
    NOT_SENT = "not_sent", _("Not sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")  # reopened before the invitation left
    ANSWERED = "answered", _("Answered")


class AnswerSource(models.TextChoices):
    LINK = "link", _("Signed link")
    REPLY = "reply", _("Reply on the channel")
    PORTAL = "portal", _("Portal")
    API = "api", _("API")


class Survey(TenantModel):
    """One per ticket (the unique ticket is what makes an answer idempotent). The channel,
    agent and service are those of the resolution, kept for reports even if the ticket
    moves later."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE,
                                  related_name="csat", verbose_name=_("ticket"))
    channel = models.ForeignKey("channels.Channel", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("channel"))
    channel_kind = models.CharField(_("channel type"), max_length=30, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("agent"))
    service = models.ForeignKey("tenancy.Service", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("service"))
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("contact"))
    # The sender identity an answer on the channel comes from (normalised), and the
    # language the invitation was written in.
    recipient = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=10, default="pt-br")
    status = models.CharField(_("status"), max_length=10, choices=SurveyStatus.choices,
                              default=SurveyStatus.SCHEDULED)
    send_after = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failure = models.CharField(max_length=500, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_via = models.CharField(_("answered through"), max_length=10, blank=True,
                                    choices=AnswerSource.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                                   name="csat_score_1_to_5"),
        ]
        indexes = [
            # The sweep of invitations due (also those a restart left behind).
            models.Index(fields=["send_after"], condition=Q(status="scheduled"),
                         name="csat_due"),
            # A reply on the channel: the sender's latest invitation there.
            models.Index(fields=["channel", "recipient", "sent_at"],
                         condition=Q(sent_at__isnull=False), name="csat_reply_lookup"),
            # Reports: answers by period.
            models.Index(fields=["organization", "answered_at"],
                         condition=Q(answered_at__isnull=False), name="csat_answers"),
        ]

    def __str__(self) -> str:
        return f"CSAT {self.ticket_id}: {self.score or '-'}"

    @property
    def answered(self) -> bool:
        return self.score is not None
