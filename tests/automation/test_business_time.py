"""Business-time arithmetic for SLA clocks: overnight, weekends, holidays, DST, 24x7."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from atende.automation.business_hours import is_open
from atende.automation.business_time import (
    add_business_minutes,
    add_business_time,
    business_time_between,
)
from atende.automation.models import BusinessCalendar

UTC = datetime.UTC
SP = ZoneInfo("America/Sao_Paulo")
WEEKDAYS_8_18 = {str(d): ["08:00", "18:00"] for d in range(5)}


def _cal(**kw: object) -> BusinessCalendar:
    defaults: dict[str, object] = {"name": "x", "timezone": "America/Sao_Paulo",
                                   "hours": WEEKDAYS_8_18, "holidays": [],
                                   "public_holidays": False}
    return BusinessCalendar(**{**defaults, **kw})


def local(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SP)  # type: ignore[misc]


def test_no_calendar_or_inactive_calendar_counts_every_minute() -> None:
    start = local(2026, 11, 27, 17, 0)  # Friday
    assert add_business_minutes(None, start, 120) == start + datetime.timedelta(hours=2)
    inactive = _cal(is_active=False)
    assert add_business_minutes(inactive, start, 120) == start + datetime.timedelta(hours=2)
    assert business_time_between(None, start, start + datetime.timedelta(hours=5)) == \
        datetime.timedelta(hours=5)


def test_within_the_day_and_overnight() -> None:
    cal = _cal()
    # Monday 09:00 + 60 min = 10:00.
    assert add_business_minutes(cal, local(2026, 11, 23, 9, 0), 60) == local(2026, 11, 23, 10, 0)
    # Monday 17:00 + 120 min: one hour today, one tomorrow from 08:00.
    assert add_business_minutes(cal, local(2026, 11, 23, 17, 0), 120) == \
        local(2026, 11, 24, 9, 0)
    # Exactly to closing time ends at closing time, not the next morning.
    assert add_business_minutes(cal, local(2026, 11, 23, 17, 0), 60) == \
        local(2026, 11, 23, 18, 0)
    # Started at night: counting begins at the next opening.
    assert add_business_minutes(cal, local(2026, 11, 23, 22, 0), 30) == \
        local(2026, 11, 24, 8, 30)


def test_weekend_is_skipped() -> None:
    cal = _cal()
    # Friday 17:30 + 60 min: 30 on Friday, 30 on Monday.
    due = add_business_minutes(cal, local(2026, 11, 27, 17, 30), 60)
    assert due == local(2026, 11, 30, 8, 30)
    # Opened on Saturday: Monday 08:00 onwards.
    assert add_business_minutes(cal, local(2026, 11, 28, 10, 0), 90) == \
        local(2026, 11, 30, 9, 30)
    # Several days: 25 business hours from Monday 08:00 = Wednesday 13:00.
    assert add_business_minutes(cal, local(2026, 11, 23, 8, 0), 25 * 60) == \
        local(2026, 11, 25, 13, 0)


def test_holidays_are_closed_all_day() -> None:
    cal = _cal(holidays=["2026-12-25"])  # a Friday
    assert add_business_minutes(cal, local(2026, 12, 24, 17, 0), 120) == \
        local(2026, 12, 28, 9, 0)


def test_always_open_still_honours_holidays() -> None:
    cal = _cal(always_open=True, hours={}, holidays=["2026-12-25"])
    assert add_business_minutes(cal, local(2026, 12, 24, 23, 0), 120) == \
        local(2026, 12, 26, 1, 0)


def test_other_time_zone_and_dst() -> None:
    # New York leaves DST on 2026-11-01 (a Sunday): Monday 9-17 local either side.
    cal = _cal(timezone="America/New_York", hours={"0": ["09:00", "17:00"]})
    ny = ZoneInfo("America/New_York")
    start = datetime.datetime(2026, 10, 26, 16, 0, tzinfo=ny)  # Monday, EDT
    due = add_business_minutes(cal, start, 120)
    assert due.astimezone(ny) == datetime.datetime(2026, 11, 2, 10, 0, tzinfo=ny)  # EST
    assert is_open(cal, due - datetime.timedelta(minutes=1))
    # Same answer whatever zone the start is given in.
    assert add_business_minutes(cal, start.astimezone(UTC), 120) == due


def test_time_between_is_the_inverse_of_adding() -> None:
    cal = _cal(holidays=["2026-12-25"])
    start = local(2026, 12, 23, 16, 45)
    for minutes in (0, 15, 75, 600, 3000):
        due = add_business_minutes(cal, start, minutes)
        assert business_time_between(cal, start, due) == datetime.timedelta(minutes=minutes)
    assert business_time_between(cal, local(2026, 11, 27, 17, 0), local(2026, 11, 30, 9, 0)) \
        == datetime.timedelta(hours=2)
    assert business_time_between(cal, local(2026, 11, 30, 9, 0), local(2026, 11, 27, 17, 0)) \
        == datetime.timedelta(0)


def test_calendar_that_never_opens_falls_back_to_clock_time() -> None:
    cal = _cal(hours={})
    start = local(2026, 11, 23, 9, 0)
    assert add_business_time(cal, start, datetime.timedelta(hours=1)) == \
        start + datetime.timedelta(hours=1)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        add_business_minutes(_cal(), datetime.datetime(2026, 11, 23, 9, 0), 10)


def test_a_public_holiday_is_skipped_by_the_clock() -> None:
    # Monday 20 April 2026, 17:00 + 2 business hours: Tuesday 21 is Tiradentes, so the clock
    # resumes on Wednesday 22 at 08:00 and ends at 09:00.
    cal = _cal(public_holidays=True)
    assert add_business_minutes(cal, local(2026, 4, 20, 17, 0), 120) == local(2026, 4, 22, 9, 0)
    assert business_time_between(cal, local(2026, 4, 20, 8, 0), local(2026, 4, 23, 8, 0)) \
        == datetime.timedelta(hours=20)
