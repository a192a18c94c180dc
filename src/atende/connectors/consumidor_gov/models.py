"""A complaint on Consumidor.gov.br, kept per (channel, protocol): the header an agent
reads beside the ticket, the platform's status as the seed maps it, and the evaluation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import TenantModel


class PlatformStatus(models.TextChoices):
    OPEN = "aberta", _("Open (Aberta)")
    IN_ANALYSIS = "em_analise", _("Under analysis (Em Análise pelo Gestor)")
    ANSWERED = "respondida", _("Answered (Respondida)")
    EVALUATED = "avaliada", _("Finished and evaluated (Finalizada e Avaliada)")
    NOT_EVALUATED = "nao_avaliada", _("Finished, not evaluated (Finalizada não avaliada)")
    CANCELLED = "cancelada", _("Cancelled (Cancelada)")


FINISHED = (PlatformStatus.EVALUATED, PlatformStatus.NOT_EVALUATED, PlatformStatus.CANCELLED)


class Complaint(TenantModel):
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE,
                                related_name="+")
    protocol = models.CharField(_("protocol"), max_length=40)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status on the platform"), max_length=20,
                              choices=PlatformStatus.choices, default=PlatformStatus.OPEN)
    consumer_name = models.CharField(_("consumer"), max_length=200, blank=True)
    consumer_cpf = models.CharField(_("CPF"), max_length=11, blank=True)
    consumer_email = models.CharField(max_length=254, blank=True)
    consumer_city = models.CharField(max_length=120, blank=True)
    area = models.CharField(_("company area"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    problem = models.CharField(_("problem"), max_length=200, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("response deadline"), null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The consumer's evaluation (CG-6): after it nothing more can be sent.
    evaluated_at = models.DateTimeField(null=True, blank=True)
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    evaluation_comment = models.TextField(blank=True)
    # Attendances under this protocol: a consumer's reply after a finished one opens the next.
    attendances = models.PositiveIntegerField(default=1)
    last_agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        constraints = [models.UniqueConstraint(fields=["channel", "protocol"],
                                               name="uniq_complaint_protocol")]
        indexes = [models.Index(fields=["organization", "status", "deadline_at"],
                                name="complaint_org_status_due"),
                   models.Index(fields=["ticket"], name="complaint_ticket")]

    def __str__(self) -> str:
        return self.protocol

    @property
    def closed(self) -> bool:
        return self.evaluated_at is not None or self.status in FINISHED
