"""The API's windows (CG-7) in Brasília time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atende.connectors.consumidor_gov.hours import BRASILIA, is_open, next_open


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BRASILIA)  # 7 Dec 2026 is a Monday


def test_the_windows_of_a_weekday_and_the_weekend() -> None:
    assert not is_open(local(8, 11, 59))
    assert is_open(local(8, 12, 0)) and is_open(local(8, 13, 59))
    assert not is_open(local(8, 14, 0)) and not is_open(local(8, 16, 59))
    assert is_open(local(8, 17, 0)) and is_open(local(8, 21, 59))
    assert not is_open(local(8, 22, 0))
    assert is_open(local(12, 3, 0)) and is_open(local(13, 23, 59))  # Saturday, Sunday


def test_the_next_window() -> None:
    assert next_open(local(8, 15, 0)) == local(8, 17, 0)  # Tuesday afternoon
    assert next_open(local(8, 22, 30)) == local(9, 12, 0)  # Tuesday night
    assert next_open(local(11, 22, 0)) == local(12, 0, 0)  # Friday night → Saturday
    assert next_open(local(12, 9, 0)) == local(12, 9, 0)  # already open
    # The same instant written in UTC.
    assert next_open(local(8, 15, 0).astimezone(UTC)) == local(8, 17, 0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                    timezones=st.just(UTC)))
def test_the_next_window_is_open_and_nothing_opens_before_it(at: datetime) -> None:
    opens = next_open(at)
    assert opens >= at and is_open(opens)
    probe = at
    while probe < opens:  # every quarter hour before it is closed
        assert not is_open(probe)
        probe += timedelta(minutes=15)
