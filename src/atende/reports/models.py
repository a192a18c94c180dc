"""Daily roll-ups of the ticket figures, the bookkeeping that keeps them current, and the
export jobs.

A `DailyRollup` row is one cell: an organisation's figures for one day (in its time
zone), one service and one channel (0 for none), either in total (`dimension` "") or for
one agent, category or finalization tag (`dimension` + `key`). Reports read cells only,
never tickets, so a 90-day dashboard reads a few thousand rows whatever the ticket count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import Organization, TenantModel

# The counters of a cell, summed by every report; the histograms are merged.
COUNTERS = (
    "opened", "reopened", "resolved", "backlog_delta", "messages_sent",
    "first_responses", "first_response_seconds", "resolutions", "resolution_seconds",
    "handled", "handling_seconds",
    "sla_first_met", "sla_first_breached", "sla_resolution_met", "sla_resolution_breached",
)
HISTOGRAMS = ("first_response_hist", "resolution_hist", "handling_hist")


class Dimension(models.TextChoices):
    TOTAL = "", _("Total")
    AGENT = "agent", _("Agent")
    CATEGORY = "category", _("Category")
    TAG = "tag", _("Finalization tag")


class DailyRollup(TenantModel):
    day = models.DateField()
    service_id = models.BigIntegerField(default=0)
    channel_id = models.BigIntegerField(default=0)
    dimension = models.CharField(max_length=10, choices=Dimension.choices, blank=True)
    key = models.CharField(max_length=100, blank=True)
    opened = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    # opened (unless opened already solved) + reopened - resolved: the backlog at the end
    # of a day is the sum of every earlier day's delta.
    backlog_delta = models.IntegerField(default=0)
    messages_sent = models.IntegerField(default=0)
    first_responses = models.IntegerField(default=0)
    first_response_seconds = models.BigIntegerField(default=0)
    resolutions = models.IntegerField(default=0)
    resolution_seconds = models.BigIntegerField(default=0)
    handled = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    sla_first_met = models.IntegerField(default=0)
    sla_first_breached = models.IntegerField(default=0)
    sla_resolution_met = models.IntegerField(default=0)
    sla_resolution_breached = models.IntegerField(default=0)
    # {bucket index: count} (reports.histogram): medians and p90s without the tickets.
    # JSON as text: the roll-up job writes its rows with one plain UPDATE (atende.bulk_update),
    # which leaves JSONField columns to Django's much slower CASE-per-row statement.
    first_response_hist = models.TextField(default="{}")
    resolution_hist = models.TextField(default="{}")
    handling_hist = models.TextField(default="{}")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dimension", "day", "service_id", "channel_id", "key"],
                name="uniq_daily_rollup_cell"),
        ]


class TicketFact(TenantModel):
    """What one ticket currently adds to the cells, so a change of the ticket takes its old
    contribution out before adding the new one (order of events never matters)."""

    ticket_id = models.BigIntegerField(unique=True)
    contribution = models.JSONField(default=list)


class PendingTicket(TenantModel):
    """A ticket changed since its contribution was computed: written in the transaction of
    the change, removed by the roll-up job in the transaction that recomputes it, so a lost
    task loses nothing (the minute job drains what is left)."""

    ticket_id = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)


class RollupLock(models.Model):
    """One row per organisation, locked by every roll-up write: they never interleave."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE,
                                        related_name="+")
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"roll-up lock {self.organization_id}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    EMPTY = "empty", _("Nothing to export")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


FINISHED = (ExportStatus.DONE, ExportStatus.EMPTY, ExportStatus.CANCELLED, ExportStatus.FAILED)


class ReportExport(TenantModel):
    """A report or the raw tickets of a period written to a file by a background job."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    report = models.CharField(_("report"), max_length=20)
    format = models.CharField(_("format"), max_length=10)
    params = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices,
                              default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="report-exports/", max_length=300, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "created_by", "-created_at"],
                                name="report_export_owner")]
