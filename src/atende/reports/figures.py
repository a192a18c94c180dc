"""Reading the cells: sums and merged histograms per group, for a period and scope."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum

from atende.reports import histogram
from atende.reports.filters import Period, ReportFilters, Scope
from atende.reports.models import COUNTERS, HISTOGRAMS, DailyRollup


@dataclass
class Figures:
    """The summed counters and merged histograms of some cells."""

    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    hists: dict[str, dict[int, int]] = field(
        default_factory=lambda: {h: {} for h in HISTOGRAMS})

    def add(self, row: dict[str, Any]) -> None:
        for name in COUNTERS:
            self.counters[name] += row[name]
        for name in HISTOGRAMS:
            target = self.hists[name]
            for index, count in json.loads(row[name] or "{}").items():
                target[int(index)] = target.get(int(index), 0) + count

    def merge(self, other: Figures) -> None:
        for name in COUNTERS:
            self.counters[name] += other.counters[name]
        for name in HISTOGRAMS:
            target = self.hists[name]
            for index, count in other.hists[name].items():
                target[index] = target.get(index, 0) + count

    def __getattr__(self, name: str) -> int:
        counters = self.__dict__.get("counters", {})
        if name in counters:
            return int(counters[name])
        raise AttributeError(name)

    def median(self, hist: str) -> float | None:
        return histogram.percentile(self.hists[hist], 0.5)

    def p90(self, hist: str) -> float | None:
        return histogram.percentile(self.hists[hist], 0.9)

    def mean(self, total: str, count: str) -> float | None:
        n = self.counters[count]
        return self.counters[total] / n if n else None

    def compliance(self, met: str, breached: str) -> float | None:
        n = self.counters[met] + self.counters[breached]
        return 100.0 * self.counters[met] / n if n else None


def cells(scope: Scope, filters: ReportFilters, period: Period,
          dimension: str = "") -> QuerySet[DailyRollup]:
    qs = DailyRollup.objects.for_org(scope.organization_id).filter(
        dimension=dimension, day__gte=period.start, day__lte=period.end)
    return narrow(qs, scope, filters)


def narrow(qs: QuerySet[DailyRollup], scope: Scope, filters: ReportFilters
           ) -> QuerySet[DailyRollup]:
    if scope.services is not None:
        qs = qs.filter(service_id__in=scope.services)
    if filters.service_id:
        qs = qs.filter(service_id=filters.service_id)
    if filters.channel_id:
        qs = qs.filter(channel_id=filters.channel_id)
    return qs


def grouped(rows: QuerySet[DailyRollup], key: Callable[[dict[str, Any]], Hashable]
            ) -> dict[Any, Figures]:
    result: dict[Any, Figures] = {}
    for row in rows.values("day", "service_id", "channel_id", "key", *COUNTERS, *HISTOGRAMS):
        result.setdefault(key(row), Figures()).add(row)
    return result


def backlog_before(scope: Scope, filters: ReportFilters, day: date) -> int:
    """Unresolved tickets at the start of `day`: every earlier day's delta."""
    qs = narrow(DailyRollup.objects.for_org(scope.organization_id)
                .filter(dimension="", day__lt=day), scope, filters)
    return int(qs.aggregate(total=Sum("backlog_delta"))["total"] or 0)
