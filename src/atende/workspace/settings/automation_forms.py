"""Forms for saved replies and business-hours calendars."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from atende.automation.models import BusinessCalendar, SavedReply
from atende.automation.public_holidays import REGIONS
from atende.tickets.saved_replies import VARIABLES, unknown_variables
from atende.workspace.settings.forms import TenantModelForm

WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
            _("Saturday"), _("Sunday")]


class SavedReplyForm(TenantModelForm):
    class Meta:
        model = SavedReply
        fields = ["title", "body"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = format_lazy(
            "{} {}", _("Variables you can use:"),
            ", ".join("{{" + name + "}}" for name in VARIABLES))

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        unknown = unknown_variables(body)
        if unknown:
            raise forms.ValidationError(
                _("Unknown variables: %(names)s."),
                params={"names": ", ".join("{{" + n + "}}" for n in unknown)})
        return body


class BusinessCalendarForm(TenantModelForm):
    holidays_text = forms.CharField(
        label=_("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One date per line, e.g. 2026-12-25. Closed all day. Brazil's public "
                    "holidays need no line here when the box above is ticked."),
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "timezone", "always_open", "public_holidays", "holiday_region"]
        widgets = {"holiday_region": forms.Select(choices=[("", "—"), *[
            (code, code) for code in REGIONS]])}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hours = self.instance.hours if self.instance.pk else {}
        for n, day in enumerate(WEEKDAYS):
            start, end = hours.get(str(n)) or (None, None)
            self.fields[f"start_{n}"] = forms.TimeField(
                label=format_lazy("{}: {}", day, _("opens")), required=False, initial=start,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
            self.fields[f"end_{n}"] = forms.TimeField(
                label=format_lazy("{}: {}", day, _("closes")), required=False, initial=end,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
        if self.instance.pk:
            self.fields["holidays_text"].initial = "\n".join(self.instance.holidays)
        self.order_fields(["name", "timezone", "always_open",
                           *[f"{k}_{n}" for n in range(7) for k in ("start", "end")],
                           "public_holidays", "holiday_region", "holidays_text"])

    def clean_timezone(self) -> str:
        value: str = self.cleaned_data["timezone"]
        if value not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Unknown time zone, e.g. America/Sao_Paulo."))
        return value

    def clean_holiday_region(self) -> str:
        value: str = self.cleaned_data["holiday_region"]
        if value and value not in REGIONS:
            raise forms.ValidationError(_("Choose a Brazilian state from the list."))
        return value

    def clean_holidays_text(self) -> list[str]:
        days = []
        for line in self.cleaned_data["holidays_text"].splitlines():
            if not line.strip():
                continue
            try:
                days.append(datetime.date.fromisoformat(line.strip()).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    _("\"%(value)s\" is not a date like 2026-12-25."),
                    params={"value": line.strip()[:40]}) from None
        return sorted(set(days))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours: dict[str, list[str]] = {}
        for n in range(7):
            start, end = data.get(f"start_{n}"), data.get(f"end_{n}")
            if start is None and end is None:
                continue
            if start is None or end is None or start >= end:
                self.add_error(f"end_{n}", _("Give an opening time before the closing time, "
                                             "or leave both empty for a closed day."))
                continue
            hours[str(n)] = [start.strftime("%H:%M"), end.strftime("%H:%M")]
        if not hours and not data.get("always_open"):
            self.add_error(None, _("Give the hours of at least one day, or choose 24x7."))
        self.instance.hours = hours
        self.instance.holidays = data.get("holidays_text", [])
        return data
