"""Saved replies with variables, and business-hours calendars (CORE-9)."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from atende.automation.public_holidays import is_public_holiday
from atende.tenancy.models import TenantModel


class SavedReply(TenantModel):
    """A canned answer the agent inserts in the composer; `{{contact.name}}`-style variables
    are filled in by `tickets.saved_replies.render_saved_reply`."""

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        constraints = [
            models.UniqueConstraint(fields=["organization", "title"], name="uniq_saved_reply")
        ]
        indexes = [models.Index(fields=["organization", "is_active", "title"],
                                name="saved_reply_org_active")]

    def __str__(self) -> str:
        return self.title


class BusinessCalendar(TenantModel):
    """When a service or channel is attended: always (24x7) or per weekday between a start
    and an end time, in `timezone`, except on `holidays`.

    `hours` maps a weekday ("0" = Monday … "6" = Sunday) to ["HH:MM", "HH:MM"]; a missing
    day is closed. `holidays` lists ISO dates ("2026-12-25").
    """

    name = models.CharField(_("name"), max_length=120)
    timezone = models.CharField(_("time zone"), max_length=64, default="America/Sao_Paulo")
    always_open = models.BooleanField(_("open 24 hours, 7 days a week"), default=False)
    hours = models.JSONField(_("hours"), default=dict, blank=True)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    # Brazil's public holidays count as closed days without being listed in `holidays`.
    public_holidays = models.BooleanField(_("closed on Brazil's national holidays"),
                                          default=True)
    holiday_region = models.CharField(
        _("state holidays too"), max_length=40, blank=True,
        help_text=_("A state (e.g. SP) whose own holidays also close this calendar."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_calendar_name")
        ]

    def __str__(self) -> str:
        return self.name

    def is_holiday(self, day: datetime.date) -> bool:
        """A local date this calendar is closed all day."""
        if day.isoformat() in self.holidays:
            return True
        return self.public_holidays and is_public_holiday(day, self.holiday_region)
