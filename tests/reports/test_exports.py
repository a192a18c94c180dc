"""Exports: background jobs with progress, a file that opens, a clear answer for an empty
period, cancellation that leaves nothing behind, and only for their author."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from atende.reports import exports, rollups
from atende.reports.filters import Period, ReportFilters
from atende.reports.models import ExportStatus, ReportExport
from atende.tenancy.models import Membership, Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_files(tenant: Any) -> None:
    """Files are written in the organisation's language; these tests read English."""
    tenant.org.language = "en"
    tenant.org.save(update_fields=["language"])


def _export(client: Client, capture: Any, **data: Any) -> ReportExport:
    with capture(execute=True):
        response = client.post(reverse("reports:exports"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return ReportExport.objects.latest("pk")


def _download(client: Client, export: ReportExport) -> bytes:
    response = client.get(reverse("reports:export-download", args=[export.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_a_report_exports_to_excel_with_its_tables(
        admin_client: Client, tenant: Any, make_ticket: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    for _ in range(3):
        make_ticket(tenant.org, service=tenant.service)
    rollups.drain(tenant.org.pk)
    export = _export(admin_client, django_capture_on_commit_callbacks,
                     report="dashboard", format="xlsx")
    export.refresh_from_db()
    assert (export.status, export.progress) == (ExportStatus.DONE, 100)
    book = load_workbook(io.BytesIO(_download(admin_client, export)), read_only=True)
    per_channel = list(book.worksheets[0].iter_rows(values_only=True))
    assert per_channel[2][:3] == ("Channel", "Opened", "Resolved")
    assert per_channel[-3][:2] == ("Total", 3)  # then a blank line and the note


def test_the_raw_tickets_of_a_period_export_to_csv_and_excel(
        admin_client: Client, tenant: Any, make_ticket: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    tickets = [make_ticket(tenant.org, subject=f"Pedido {n}", service=tenant.service)
               for n in range(4)]
    export = _export(admin_client, django_capture_on_commit_callbacks,
                     report="tickets", format="csv")
    rows = list(csv.reader(io.StringIO(_download(admin_client, export).decode("utf-8-sig"))))
    assert rows[0][:2] == ["Ticket", "Subject"]
    assert sorted(r[1] for r in rows[1:]) == sorted(t.subject for t in tickets)
    export = _export(admin_client, django_capture_on_commit_callbacks,
                     report="tickets", format="xlsx")
    sheet = load_workbook(io.BytesIO(_download(admin_client, export)), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(values) == 5 and values[1][0] == tickets[0].protocol


def test_an_empty_period_gives_a_clear_answer_and_no_file(
        admin_client: Client, tenant: Any, make_ticket: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    make_ticket(tenant.org)
    start = (timezone.localdate() - timedelta(days=300)).isoformat()
    end = (timezone.localdate() - timedelta(days=200)).isoformat()
    export = _export(admin_client, django_capture_on_commit_callbacks,
                     report="tickets", format="xlsx", start=start, end=end)
    export.refresh_from_db()
    assert export.status == ExportStatus.EMPTY and not export.file
    page = admin_client.get(reverse("reports:exports")).content.decode()
    assert "Nothing to export: no tickets in this period for these filters." in page
    assert admin_client.get(
        reverse("reports:export-download", args=[export.pk])).status_code == 404


def test_a_cancelled_export_stops_and_leaves_no_file(
        tenant: Any, make_ticket: Any, settings: Any) -> None:
    for _ in range(5):
        make_ticket(tenant.org)
    membership = Membership.objects.get(user=tenant.admin)
    today = timezone.localdate()
    filters = ReportFilters(Period(today - timedelta(days=1), today), None, None, "channel")
    export = exports.create_export(membership, "tickets", "xlsx", filters)  # not run yet
    assert exports.cancel(export)
    exports.run(export.pk)  # the job starts after the cancel: it does nothing
    export.refresh_from_db()
    assert export.status == ExportStatus.CANCELLED and not export.file
    # Cancelled while running: the job stops at its next step and writes no file.
    running = exports.create_export(membership, "tickets", "xlsx", filters)
    original = exports.PROGRESS_EVERY
    exports.PROGRESS_EVERY = 2
    try:
        ReportExport.objects.filter(pk=running.pk).update(status=ExportStatus.QUEUED)
        calls = {"n": 0}
        real_step = exports._step

        def cancel_then_step(export: ReportExport, rows: int, progress: int) -> None:
            calls["n"] += 1
            exports.cancel(export)
            real_step(export, rows, progress)

        exports._step = cancel_then_step  # type: ignore[assignment]
        exports.run(running.pk)
    finally:
        exports._step = real_step  # type: ignore[assignment]
        exports.PROGRESS_EVERY = original
    running.refresh_from_db()
    assert calls["n"] == 1
    assert running.status == ExportStatus.CANCELLED and not running.file
    media = settings.MEDIA_ROOT
    assert not list(media.rglob("*.xlsx")) if media.exists() else True


def test_exports_are_their_authors_and_bad_requests_are_refused(
        admin_client: Client, tenant: Any, other_tenant: Any, make_ticket: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    make_ticket(tenant.org)
    export = _export(admin_client, django_capture_on_commit_callbacks,
                     report="tickets", format="csv")
    colleague = User.objects.create_user("sup@acme.test", None)
    Membership.objects.create(organization=tenant.org, user=colleague, role=Role.SUPERVISOR)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(colleague)
    assert client.get(reverse("reports:export-download", args=[export.pk])).status_code == 404
    assert client.post(reverse("reports:export-cancel", args=[export.pk])).status_code == 404
    outsider = Client(HTTP_ACCEPT_LANGUAGE="en")
    outsider.force_login(other_tenant.admin)
    assert outsider.get(reverse("reports:export-status", args=[export.pk])).status_code == 404
    for data, message in (({"report": "weather", "format": "xlsx"}, "Unknown report."),
                          ({"report": "dashboard", "format": "pdf"}, "Unknown export format."),
                          ({"report": "tickets", "format": "csv", "start": "2026-02-30"},
                           "Enter a valid date.")):
        response = admin_client.post(reverse("reports:exports"), data)
        assert response.status_code == 400 and message in response.content.decode()
