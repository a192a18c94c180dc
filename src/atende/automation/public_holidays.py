"""Brazil's public holidays for a business-hours calendar, from the `holidays` package
(national ones, and a state's or São Paulo city's when the calendar names one), so nobody
has to type Good Friday or Corpus Christi in every year."""

from __future__ import annotations

import datetime
from functools import lru_cache

import holidays

REGIONS: tuple[str, ...] = tuple(holidays.Brazil.subdivisions)


@lru_cache(maxsize=256)
def _dates(region: str, year: int) -> frozenset[str]:
    found = holidays.Brazil(years=year, subdiv=region or None)
    return frozenset(day.isoformat() for day in found)


def is_public_holiday(day: datetime.date, region: str = "") -> bool:
    return day.isoformat() in _dates(region if region in REGIONS else "", day.year)


def named(year: int, region: str = "", language: str = "pt_BR") -> list[tuple[datetime.date, str]]:
    """The year's public holidays with their names, for the settings screen."""
    found = holidays.Brazil(years=year, subdiv=region if region in REGIONS else None,
                            language=language)
    return sorted(found.items())
