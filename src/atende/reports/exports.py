"""Exports as background jobs: a report's tables to Excel, or the raw tickets of a period to
CSV or Excel, written by a streaming writer (constant memory), with progress the screen
polls, cancellable, and nothing left behind when cancelled or failed."""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.reports import builders
from atende.reports.filters import Period, ReportFilters, Scope
from atende.reports.models import FINISHED, ExportStatus, ReportExport
from atende.reports.shapes import Duration, Percent, Report
from atende.tenancy.models import Membership
from atende.tickets.models import format_protocol
from atende.tickets.visibility import visible_tickets

logger = logging.getLogger(__name__)
REPORTS = ("dashboard", "period", "agents", "sla", "tickets")
FORMATS = {"xlsx": ".xlsx", "csv": ".csv"}
PROGRESS_EVERY = 2000


class Cancelled(Exception):
    pass


def create_export(membership: Membership, report: str, fmt: str,
                  filters: ReportFilters) -> ReportExport:
    """Queue an export (the caller checked the report and format names)."""
    with transaction.atomic():
        export = ReportExport.objects.create(
            organization_id=membership.organization_id, created_by_id=membership.user_id,
            report=report, format=fmt, params=filters.as_params())
    from atende.reports.tasks import run_export

    transaction.on_commit(lambda: run_export.enqueue(export.pk))
    return export


def cancel(export: ReportExport) -> bool:
    """Stop an unfinished export; the job notices at its next progress step and deletes
    what it wrote. False when it had already finished."""
    return bool(ReportExport.objects.filter(pk=export.pk).exclude(status__in=FINISHED)
                .update(status=ExportStatus.CANCELLED, finished_at=timezone.now(),
                        message=_("Cancelled.")))


def _filters(params: dict[str, Any]) -> ReportFilters:
    return ReportFilters(Period(date.fromisoformat(params["start"]),
                                date.fromisoformat(params["end"])),
                         params.get("channel"), params.get("service"),
                         params.get("by", "channel"))


def _step(export: ReportExport, rows: int, progress: int) -> None:
    """Record progress, and stop if the export was cancelled meanwhile."""
    updated = ReportExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
        rows=rows, progress=min(progress, 99))
    if not updated:
        raise Cancelled


def run(export_id: int) -> None:
    export = ReportExport.objects.filter(pk=export_id, status=ExportStatus.QUEUED).first()
    if export is None:
        return
    membership = None if export.created_by_id is None else Membership.objects.filter(
        organization_id=export.organization_id, user_id=export.created_by_id,
        is_active=True).select_related("organization", "access_profile").first()
    if membership is None:
        ReportExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, finished_at=timezone.now(),
            message=_("Its author is no longer in the organisation."))
        return
    if not ReportExport.objects.filter(pk=export.pk, status=ExportStatus.QUEUED).update(
            status=ExportStatus.RUNNING):
        return
    language = membership.organization.language or "pt-br"
    handle, path = tempfile.mkstemp(suffix=FORMATS[export.format])
    os.close(handle)
    try:
        with translation.override(language), timezone.override(membership.organization.timezone):
            rows = _write(export, membership, path)
        if rows == 0:
            _finish(export, ExportStatus.EMPTY, _("Nothing to export: no tickets in this "
                                                  "period for these filters."))
            return
        name = f"{export.report}-{export.params['start']}-{export.params['end']}" \
               f"{FORMATS[export.format]}"
        with open(path, "rb") as stream:
            export.file.save(f"{export.organization_id}/{export.pk}-{name}", File(stream),
                             save=False)
        done = ReportExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.DONE, progress=100, rows=rows, file=export.file.name,
            filename=name, finished_at=timezone.now())
        if not done:  # cancelled at the last moment
            export.file.delete(save=False)
    except Cancelled:
        pass
    except Exception:
        logger.exception("report export %s failed", export.pk)
        _finish(export, ExportStatus.FAILED, _("The export failed. Try again; if it keeps "
                                               "failing, tell your administrator."))
    finally:
        os.unlink(path)


def _finish(export: ReportExport, status: str, message: str) -> None:
    ReportExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
        status=status, message=message, finished_at=timezone.now(), progress=100)


def _write(export: ReportExport, membership: Membership, path: str) -> int:
    filters = _filters(export.params)
    if export.report == "tickets":
        return _write_tickets(export, membership, filters, path)
    scope = Scope.of(membership)
    report = build(export.report, scope, filters, membership)
    if report.empty:
        return 0
    return _write_report(report, path)


def build(name: str, scope: Scope, filters: ReportFilters, membership: Membership) -> Report:
    if name == "dashboard":
        return builders.dashboard(scope, filters)
    if name == "period":
        return builders.period_report(scope, filters)
    if name == "agents":
        return builders.agents_report(scope, filters)
    return builders.sla_report(scope, filters, membership)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Duration):
        return value.minutes
    if isinstance(value, Percent):
        return round(value.value, 1)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (int, float, date)):
        return value
    return str(value)


def _write_report(report: Report, path: str) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    rows = 0
    for index, table in enumerate(report.tables):
        sheet = book.create_sheet(_sheet_title(table.title, index))
        sheet.append([report.title, report.subtitle])
        sheet.append([])
        sheet.append(_headers(table.columns, table.rows))
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
            rows += 1
        if table.note:
            sheet.append([])
            sheet.append([table.note])
    book.save(path)
    return rows


def _headers(columns: list[str], rows: list[list[Any]]) -> list[str]:
    """Durations go to the sheet as minutes (numbers a spreadsheet can sum): say so."""
    result = []
    for i, column in enumerate(columns):
        if any(isinstance(r[i], Duration) for r in rows):
            column = _("%(column)s (minutes)") % {"column": column}
        result.append(column)
    return result


def _sheet_title(title: str, index: int) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return f"{index + 1} {cleaned}"[:31]


TICKET_COLUMNS = (
    "number", "subject", "status", "priority", "origin", "channel__name", "service__name",
    "assignee__email", "category", "finalization_tag__name", "created_at",
    "first_response_at", "resolved_at", "closed_at", "first_response_breached_at",
    "resolution_breached_at",
)


def _ticket_headers() -> list[str]:
    return [_("Ticket"), _("Subject"), _("Status"), _("Priority"), _("Origin"), _("Channel"),
            _("Service"), _("Assignee"), _("Category"), _("Finalization tag"), _("Created"),
            _("First response"), _("Resolved"), _("Closed"), _("First response SLA breached"),
            _("Resolution SLA breached")]


def _ticket_rows(export: ReportExport, membership: Membership,
                 filters: ReportFilters) -> tuple[int, Iterator[list[Any]]]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(filters.period.start, datetime.min.time(), zone)
    end = datetime.combine(filters.period.end, datetime.max.time(), zone)
    qs = visible_tickets(membership).filter(created_at__gte=start, created_at__lte=end)
    if filters.channel_id:
        qs = qs.filter(channel_id=filters.channel_id)
    if filters.service_id:
        qs = qs.filter(service_id=filters.service_id)
    total = qs.count()

    def rows() -> Iterator[list[Any]]:
        for n, values in enumerate(qs.order_by("pk").values_list(*TICKET_COLUMNS)
                                   .iterator(chunk_size=PROGRESS_EVERY), start=1):
            row = list(values)
            row[0] = format_protocol(row[0])
            for i in range(10, 16):
                if row[i] is not None:
                    row[i] = timezone.localtime(row[i]).replace(tzinfo=None)
            yield row
            if n % PROGRESS_EVERY == 0:
                _step(export, n, int(100 * n / max(total, 1)))

    return total, rows()


def _write_tickets(export: ReportExport, membership: Membership, filters: ReportFilters,
                   path: str) -> int:
    total, rows = _ticket_rows(export, membership, filters)
    if total == 0:
        return 0
    written = 0
    if export.format == "csv":
        with open(path, "w", newline="", encoding="utf-8-sig") as stream:
            writer = csv.writer(stream)
            writer.writerow(_ticket_headers())
            for row in rows:
                writer.writerow(["" if v is None else v for v in row])
                written += 1
        return written
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Tickets"))
    sheet.append(_ticket_headers())
    try:
        for row in rows:
            sheet.append([_cell(v) for v in row])
            written += 1
    except Cancelled:
        sheet.close()  # end the writer's open file cleanly; the caller deletes it
        raise
    book.save(path)
    return written

