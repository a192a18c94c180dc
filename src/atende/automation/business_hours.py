"""Whether a business-hours calendar is open at a given moment."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from atende.automation.models import BusinessCalendar


def is_open(calendar: BusinessCalendar, at: datetime.datetime) -> bool:
    """True if `calendar` is open at the aware datetime `at`.

    Compared on the calendar's local wall clock, so a day's hours keep meaning the same
    local times across daylight-saving changes. Holidays (the calendar's own list, and
    Brazil's public holidays when it keeps them) are local dates. The end time is
    exclusive: a day open 08:00-18:00 is closed at 18:00.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("is_open needs an aware datetime")
    local = at.astimezone(ZoneInfo(calendar.timezone))
    if calendar.is_holiday(local.date()):
        return False
    if calendar.always_open:
        return True
    interval = calendar.hours.get(str(local.weekday()))
    if not interval:
        return False
    start, end = (datetime.time.fromisoformat(t) for t in interval)
    return start <= local.time().replace(tzinfo=None) < end
