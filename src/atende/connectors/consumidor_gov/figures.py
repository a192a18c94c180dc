"""The figures a company is ranked by on Consumidor.gov.br, over an organisation's
complaints (optionally only those on tickets an agent may see)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet

from atende.connectors.consumidor_gov.models import FINISHED, Complaint, PlatformStatus


@dataclass(frozen=True)
class Figures:
    open: int
    answered: int
    evaluated: int
    resolved: int
    resolution_rate: float | None  # resolved among the evaluated, 0..100
    average_score: float | None


def figures(complaints: QuerySet[Complaint]) -> Figures:
    """One aggregate query."""
    row = complaints.aggregate(
        open=Count("pk", filter=~Q(status__in=FINISHED) & Q(answered_at__isnull=True)),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        evaluated=Count("pk", filter=Q(status=PlatformStatus.EVALUATED)),
        resolved=Count("pk", filter=Q(status=PlatformStatus.EVALUATED, resolved=True)),
        average=Avg("score", filter=Q(status=PlatformStatus.EVALUATED, score__isnull=False)),
    )
    evaluated = int(row["evaluated"] or 0)
    rate = round(100 * row["resolved"] / evaluated, 1) if evaluated else None
    average = round(float(row["average"]), 2) if row["average"] is not None else None
    return Figures(int(row["open"] or 0), int(row["answered"] or 0), evaluated,
                   int(row["resolved"] or 0), rate, average)
