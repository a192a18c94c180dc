"""The filters every report takes: a period, a channel, a service, and (period report) a
breakdown. Anything else, or an absurd period, is refused with a message, not guessed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.channels.models import Channel
from atende.tenancy.models import Membership, Service
from atende.tickets.visibility import sees_every_ticket

MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
BREAKDOWNS = (
    ("channel", _("Channel")), ("service", _("Service")), ("agent", _("Agent")),
    ("category", _("Category")), ("tag", _("Finalization tag")),
)


@dataclass(frozen=True)
class Scope:
    """What the agent's figures cover: every service (None), or only theirs."""

    organization_id: int
    services: frozenset[int] | None

    @classmethod
    def of(cls, membership: Membership) -> Scope:
        if sees_every_ticket(membership):
            return cls(membership.organization_id, None)
        return cls(membership.organization_id,
                   frozenset(membership.services.values_list("pk", flat=True)))


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]


@dataclass(frozen=True)
class ReportFilters:
    period: Period
    channel_id: int | None
    service_id: int | None
    by: str

    def as_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"start": self.period.start.isoformat(),
                                  "end": self.period.end.isoformat(), "by": self.by}
        if self.channel_id:
            params["channel"] = self.channel_id
        if self.service_id:
            params["service"] = self.service_id
        return params


class FilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int,
                                     empty_value=None)
    service = forms.TypedChoiceField(label=_("Service"), required=False, coerce=int,
                                     empty_value=None)
    by = forms.ChoiceField(label=_("Compare by"), required=False, choices=BREAKDOWNS)

    def __init__(self, data: QueryDict | dict[str, Any] | None, scope: Scope,
                 allowed: tuple[str, ...] = ("start", "end", "channel", "service", "by")
                 ) -> None:
        super().__init__(data)
        self.scope = scope
        self.today = timezone.localdate()
        self.unknown = sorted(set(data or {}) - set(allowed) - {"csrfmiddlewaretoken"})
        channels = Channel.objects.for_org(scope.organization_id).order_by("name")
        services = Service.objects.for_org(scope.organization_id).order_by("name")
        if scope.services is not None:
            services = services.filter(pk__in=scope.services)
        self.fields["channel"].choices = [("", _("Every channel")),  # type: ignore[attr-defined]
                                          *((c.pk, c.name) for c in channels)]
        self.fields["service"].choices = [("", _("Every service")),  # type: ignore[attr-defined]
                                          *((s.pk, s.name) for s in services)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.unknown:
            raise forms.ValidationError(
                _("Unknown filter: %(names)s."), params={"names": ", ".join(self.unknown)},
                code="unknown_filter")
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            raise forms.ValidationError(_("The period starts after it ends."), code="period")
        if start < EARLIEST or end > self.today + timedelta(days=1):
            raise forms.ValidationError(
                _("Choose a period between 2000 and today."), code="period")
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("A period is at most %(days)s days long."), params={"days": MAX_DAYS},
                code="period")
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> ReportFilters:
        data = self.cleaned_data
        return ReportFilters(Period(data["start"], data["end"]), data.get("channel"),
                             data.get("service"), data.get("by") or "channel")
