"""What a report is, for the screen and the exports alike: charts, and tables beneath."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Duration:
    seconds: float

    def __str__(self) -> str:
        s = round(self.seconds)
        if s < 60:
            return _("%(n)s s") % {"n": s}
        minutes = s // 60
        if minutes < 60:
            return _("%(n)s min") % {"n": minutes}
        hours, minutes = divmod(minutes, 60)
        if hours < 48:
            return _("%(h)s h %(m)02d min") % {"h": hours, "m": minutes}
        days, hours = divmod(hours, 24)
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}

    @property
    def minutes(self) -> float:
        return round(self.seconds / 60, 1)


@dataclass(frozen=True)
class Percent:
    value: float

    def __str__(self) -> str:
        return f"{self.value:.1f} %"


def duration(seconds: float | None) -> Duration | None:
    return None if seconds is None else Duration(seconds)


def percent(value: float | None) -> Percent | None:
    return None if value is None else Percent(value)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class Chart:
    """A Chart.js chart: `kind` bar or line; durations are given in minutes."""

    ident: str
    kind: str
    title: str
    labels: list[str]
    datasets: list[dict[str, Any]]
    stacked: bool = False

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "title": self.title, "labels": self.labels,
                "datasets": self.datasets, "stacked": self.stacked}

    def for_template(self) -> dict[str, Any]:
        """The chart's data script and the table beneath it (one row per label)."""
        return {"ident": self.ident, "title": self.title, "config": self.config(),
                "script_id": f"chart-data-{self.ident}",
                "series": [d["label"] for d in self.datasets],
                "rows": [(name, [d["data"][i] for d in self.datasets])
                         for i, name in enumerate(self.labels)]}


@dataclass
class Report:
    slug: str
    title: str
    subtitle: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    empty: bool = False
