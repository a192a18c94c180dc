"""Arithmetic on open time of a business-hours calendar: "30 business minutes after this
moment" and "how much open time lies between two moments" (SLA clocks, CORE-13).

Same rules as `business_hours.is_open`: days and holidays are the calendar's local dates,
hours are local wall-clock times with an exclusive end, and a calendar that is not active
(or missing) counts every minute. Arithmetic is done in UTC so a daylight-saving change
neither adds nor loses time.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from atende.automation.models import BusinessCalendar

UTC = datetime.UTC
# A calendar with (almost) no open day left must not loop forever: past this many days
# of search the target falls back to plain clock time.
MAX_DAYS = 800


def _aware(at: datetime.datetime) -> datetime.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business time needs aware datetimes")
    return at.astimezone(UTC)


def _counts_everything(calendar: BusinessCalendar | None) -> bool:
    return calendar is None or not calendar.is_active


def open_intervals(calendar: BusinessCalendar, day: datetime.date
                   ) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The calendar's open time on the local date `day`, as UTC [start, end) pairs."""
    if calendar.is_holiday(day):
        return []
    zone = ZoneInfo(calendar.timezone)
    if calendar.always_open:
        start = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
        end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(),
                                        tzinfo=zone)
        return [(start.astimezone(UTC), end.astimezone(UTC))]
    interval = calendar.hours.get(str(day.weekday()))
    if not interval:
        return []
    opens, closes = (datetime.time.fromisoformat(t) for t in interval)
    if closes <= opens:  # is_open treats such a day as closed; so do we
        return []
    return [(datetime.datetime.combine(day, opens, tzinfo=zone).astimezone(UTC),
             datetime.datetime.combine(day, closes, tzinfo=zone).astimezone(UTC))]


def _intervals_from(calendar: BusinessCalendar, start: datetime.datetime
                    ) -> Iterator[tuple[datetime.datetime, datetime.datetime]]:
    day = start.astimezone(ZoneInfo(calendar.timezone)).date()
    for offset in range(MAX_DAYS):
        for opens, closes in open_intervals(calendar, day + datetime.timedelta(days=offset)):
            opens = max(opens, start)
            if opens < closes:
                yield opens, closes


def add_business_time(calendar: BusinessCalendar | None, start: datetime.datetime,
                      amount: datetime.timedelta) -> datetime.datetime:
    """The moment `amount` of open time after `start`. Time counted from a closed moment
    starts at the next opening; an amount that ends exactly at closing time ends there."""
    start = _aware(start)
    if _counts_everything(calendar):
        return start + amount
    assert calendar is not None
    remaining = amount
    for opens, closes in _intervals_from(calendar, start):
        if opens + remaining <= closes:
            return opens + remaining
        remaining -= closes - opens
    return start + amount


def add_business_minutes(calendar: BusinessCalendar | None, start: datetime.datetime,
                         minutes: int) -> datetime.datetime:
    return add_business_time(calendar, start, datetime.timedelta(minutes=minutes))


def business_time_between(calendar: BusinessCalendar | None, start: datetime.datetime,
                          end: datetime.datetime) -> datetime.timedelta:
    """Open time in [start, end); zero when `end` is not after `start`."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return datetime.timedelta(0)
    if _counts_everything(calendar):
        return end - start
    assert calendar is not None
    total = datetime.timedelta(0)
    for opens, closes in _intervals_from(calendar, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total
