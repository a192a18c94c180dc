"""is_open (CORE-9): weekday hours on the calendar's wall clock, time zones, DST, holidays."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from atende.automation.business_hours import is_open
from atende.automation.models import BusinessCalendar

UTC = datetime.UTC


def _cal(**kw: object) -> BusinessCalendar:
    # Unsaved: is_open is a pure function of the calendar's fields.
    defaults: dict[str, object] = {"name": "x", "timezone": "America/Sao_Paulo",
                                   "hours": {}, "holidays": [], "public_holidays": False}
    return BusinessCalendar(**{**defaults, **kw})


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_weekday_hours_in_the_calendars_time_zone() -> None:
    # 2026-11-23 is a Monday; São Paulo is UTC-3 (no DST since 2019).
    cal = _cal(hours={"0": ["08:00", "18:00"]})
    assert not is_open(cal, at(2026, 11, 23, 10, 59))  # 07:59 local
    assert is_open(cal, at(2026, 11, 23, 11, 0))        # 08:00 local, start inclusive
    assert is_open(cal, at(2026, 11, 23, 20, 59))       # 17:59 local
    assert not is_open(cal, at(2026, 11, 23, 21, 0))    # 18:00 local, end exclusive
    # Monday 01:00 UTC is still Sunday 22:00 in São Paulo: closed (no Sunday hours).
    assert not is_open(cal, at(2026, 11, 23, 1, 0))
    # The same moment seen from another zone gives the same answer.
    assert is_open(cal, at(2026, 11, 23, 12, 0).astimezone(ZoneInfo("Asia/Tokyo")))


def test_daylight_saving_change_keeps_local_hours() -> None:
    # New York springs forward on Sunday 2026-03-08 at 02:00 -> 03:00.
    cal = _cal(timezone="America/New_York", hours={"6": ["01:00", "03:30"]})
    assert is_open(cal, at(2026, 3, 8, 6, 59))       # 01:59 EST
    assert is_open(cal, at(2026, 3, 8, 7, 0))        # 03:00 EDT
    assert not is_open(cal, at(2026, 3, 8, 7, 30))   # 03:30 EDT
    # A week later the same local hours are one UTC hour earlier.
    assert is_open(cal, at(2026, 3, 15, 5, 0))       # 01:00 EDT
    assert not is_open(cal, at(2026, 3, 15, 4, 59))  # 00:59 EDT
    # Falling back (2026-11-01 01:00-02:00 happens twice): both 01:30s are open.
    fall = _cal(timezone="America/New_York", hours={"6": ["01:00", "02:00"]})
    assert is_open(fall, at(2026, 11, 1, 5, 30))     # 01:30 EDT
    assert is_open(fall, at(2026, 11, 1, 6, 30))     # 01:30 EST
    assert not is_open(fall, at(2026, 11, 1, 7, 0))  # 02:00 EST


def test_holidays_are_local_dates_and_close_even_24x7() -> None:
    cal = _cal(always_open=True, holidays=["2026-12-25"])
    assert is_open(cal, at(2026, 12, 25, 2, 0))       # still the 24th in São Paulo
    assert not is_open(cal, at(2026, 12, 25, 3, 0))   # 00:00 on the 25th
    assert not is_open(cal, at(2026, 12, 26, 2, 59))  # 23:59 on the 25th
    assert is_open(cal, at(2026, 12, 26, 3, 0))


def test_24x7_and_closed_days() -> None:
    assert is_open(_cal(always_open=True), at(2026, 11, 22, 4, 0))
    assert not is_open(_cal(hours={"0": ["08:00", "18:00"]}), at(2026, 11, 24, 12, 0))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(_cal(always_open=True), datetime.datetime(2026, 1, 1, 12, 0))


def test_brazils_public_holidays_close_the_calendar_without_being_listed() -> None:
    weekdays = {str(d): ["08:00", "18:00"] for d in range(5)}
    cal = _cal(hours=weekdays, public_holidays=True)
    # Good Friday moves with Easter (2026-04-03, 2027-03-26); Tiradentes is fixed.
    for day in ((2026, 4, 3), (2027, 3, 26), (2026, 4, 21)):
        assert not is_open(cal, at(*day, 14, 0)), day
    assert is_open(cal, at(2026, 4, 2, 14, 0))  # the Thursday before Good Friday
    assert is_open(_cal(hours=weekdays), at(2026, 4, 3, 14, 0))  # the setting is off


def test_a_states_holidays_only_with_that_state() -> None:
    weekdays = {str(d): ["08:00", "18:00"] for d in range(5)}
    # 9 July 2026 (a Thursday): São Paulo's Constitutionalist Revolution, not national.
    assert is_open(_cal(hours=weekdays, public_holidays=True), at(2026, 7, 9, 14, 0))
    assert not is_open(_cal(hours=weekdays, public_holidays=True, holiday_region="SP"),
                       at(2026, 7, 9, 14, 0))
    assert is_open(_cal(hours=weekdays, public_holidays=True, holiday_region="RJ"),
                   at(2026, 7, 9, 14, 0))
    # An unknown region is ignored rather than failing every lookup.
    assert not is_open(_cal(hours=weekdays, public_holidays=True, holiday_region="XX"),
                       at(2026, 4, 21, 14, 0))
