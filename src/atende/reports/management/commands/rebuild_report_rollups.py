"""`atende manage rebuild_report_rollups [--organization SLUG]`: compute the report
roll-ups again from the stored tickets (after an upgrade, an import or a time-zone change).
Idempotent: running it twice gives the same figures."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from atende.reports.rollups import rebuild
from atende.tenancy.models import Organization


class Command(BaseCommand):
    help = "Rebuild the daily report roll-ups from the tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", help="Only this organisation (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.order_by("pk")
        if options["organization"]:
            organizations = organizations.filter(slug=options["organization"])
            if not organizations.exists():
                raise CommandError(f"No organisation with slug {options['organization']!r}.")
        for organization in organizations:
            started = time.monotonic()
            count = rebuild(organization)
            self.stdout.write(f"{organization.slug}: {count} tickets in "
                              f"{time.monotonic() - started:.1f} s")
