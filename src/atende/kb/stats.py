"""Deflection figures for the settings screen: suggestion visits of the last days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from atende.kb.models import SuggestionVisit

# A visit that opened an article and sent no ticket within this time was deflected.
SETTLE = timedelta(hours=1)


@dataclass(frozen=True)
class Deflection:
    visits: int
    opened: int
    deflected: int


def deflection(organization_id: int, days: int = 30) -> Deflection:
    now = timezone.now()
    row = SuggestionVisit.objects.for_org(organization_id).filter(
        created_at__gte=now - timedelta(days=days)).aggregate(
        visits=Count("pk"),
        opened=Count("pk", filter=Q(opened_article__isnull=False)),
        deflected=Count("pk", filter=Q(opened_article__isnull=False, ticket_at__isnull=True,
                                       created_at__lt=now - SETTLE)))
    return Deflection(row["visits"], row["opened"], row["deflected"])
