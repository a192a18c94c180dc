"""When the platform's API answers (CG-7): Monday to Friday 12:00-14:00 and 17:00-22:00,
all day on Saturdays and Sundays, in Brasília time. Outside these windows the platform
refuses calls, so synchronisation waits and answers are held until the next window.

`current_time` is the one clock the connector reads, so a test can move it together with
the fake platform's."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

BRASILIA = ZoneInfo("America/Sao_Paulo")
WEEKDAY_WINDOWS = ((time(12), time(14)), (time(17), time(22)))


def current_time() -> datetime:
    return timezone.now()


def open_for(settings: dict[str, Any], at: datetime) -> bool:
    """Whether the channel's API answers at `at` (its `hours` setting may say always)."""
    api = settings.get("api")
    return (isinstance(api, dict) and api.get("hours") == "always") or is_open(at)


def is_open(at: datetime) -> bool:
    local = at.astimezone(BRASILIA)
    if local.weekday() >= 5:
        return True
    return any(start <= local.time() < end for start, end in WEEKDAY_WINDOWS)


def next_open(at: datetime) -> datetime:
    """`at` itself when the API answers then, else the start of the next window (aware)."""
    if is_open(at):
        return at
    local = at.astimezone(BRASILIA)
    day = local.date()
    for offset in range(8):
        current = day + timedelta(days=offset)
        starts = [time(0)] if current.weekday() >= 5 else [s for s, _e in WEEKDAY_WINDOWS]
        for start in starts:
            candidate = datetime.combine(current, start, tzinfo=BRASILIA)
            if candidate > local:
                return candidate
    raise AssertionError("a window opens every day")  # pragma: no cover
