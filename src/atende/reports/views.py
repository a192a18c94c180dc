"""The report screens and the export jobs, for agents holding "Reports" (their services'
figures unless they see every ticket)."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.reports import exports
from atende.reports.filters import FilterForm, Scope
from atende.reports.models import ExportStatus, ReportExport
from atende.tenancy.models import Membership, Permission
from atende.workspace.access import permission_required


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined,no-any-return]


def _report_screen(request: HttpRequest, name: str) -> HttpResponse:
    membership = _membership(request)
    scope = Scope.of(membership)
    allowed = ("start", "end", "channel", "service") + (("by",) if name == "period" else ())
    form = FilterForm(request.GET or None, scope, allowed)
    if request.GET and not form.is_valid():
        return render(request, "reports/report.html",
                      {"form": form, "report": None, "name": name, "tabs": _tabs()}, status=400)
    if not request.GET:
        form = FilterForm({}, scope, allowed)
        form.is_valid()
    filters = form.filters()
    report = exports.build(name, scope, filters, membership)
    return render(request, "reports/report.html", {
        "form": form, "report": report, "name": name, "tabs": _tabs(),
        "charts": [c.for_template() for c in report.charts],
        "params": filters.as_params(), "recent": _recent(membership)})


def _tabs() -> list[tuple[str, str]]:
    return [("dashboard", _("Channel dashboard")), ("period", _("Period report")),
            ("agents", _("Agent activity")), ("sla", _("SLA monitoring")),
            ("exports", _("Exports"))]


def _recent(membership: Membership) -> list[ReportExport]:
    return list(ReportExport.objects.for_org(membership.organization_id)
                .filter(created_by_id=membership.user_id)[:10])


@permission_required(Permission.REPORTS)
def dashboard(request: HttpRequest) -> HttpResponse:
    return _report_screen(request, "dashboard")


@permission_required(Permission.REPORTS)
def period(request: HttpRequest) -> HttpResponse:
    return _report_screen(request, "period")


@permission_required(Permission.REPORTS)
def agents(request: HttpRequest) -> HttpResponse:
    return _report_screen(request, "agents")


@permission_required(Permission.REPORTS)
def sla(request: HttpRequest) -> HttpResponse:
    return _report_screen(request, "sla")


@permission_required(Permission.REPORTS)
def export_list(request: HttpRequest) -> HttpResponse:
    """The agent's exports, and (POST) a new one: `report` and `format` plus the filters."""
    membership = _membership(request)
    error = ""
    if request.method == "POST":
        report, fmt = request.POST.get("report", ""), request.POST.get("format", "")
        data = {k: v for k, v in request.POST.items()
                if k not in ("report", "format", "csrfmiddlewaretoken")}
        form = FilterForm(data, Scope.of(membership))
        if report not in exports.REPORTS:
            error = _("Unknown report.")
        elif fmt not in exports.FORMATS or (fmt == "csv" and report != "tickets"):
            error = _("Unknown export format.")
        elif not form.is_valid():
            error = " ".join(str(e) for e in form.non_field_errors()) or " ".join(
                f"{form.fields[f].label}: {' '.join(str(m) for m in errs)}"
                for f, errs in form.errors.items() if f in form.fields)
        else:
            export = exports.create_export(membership, report, fmt, form.filters())
            return redirect(f"{request.path}?highlight={export.pk}")
        return render(request, "reports/exports.html",
                      {"exports": _recent(membership), "error": error, "tabs": _tabs(),
                       "name": "exports"}, status=400)
    return render(request, "reports/exports.html",
                  {"exports": _recent(membership), "tabs": _tabs(), "name": "exports"})


def _own_export(request: HttpRequest, export_id: int) -> ReportExport:
    membership = _membership(request)
    return get_object_or_404(ReportExport.objects.for_org(membership.organization_id),
                             pk=export_id, created_by_id=membership.user_id)


@permission_required(Permission.REPORTS)
def export_status(request: HttpRequest, export_id: int) -> HttpResponse:
    """One export's row with its progress bar (polled while it runs)."""
    return render(request, "reports/export_row.html", {"export": _own_export(request, export_id)})


@permission_required(Permission.REPORTS)
def export_download(request: HttpRequest, export_id: int) -> FileResponse:
    export = _own_export(request, export_id)
    if export.status != ExportStatus.DONE or not export.file:
        raise Http404
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=export.filename)


@require_POST
@permission_required(Permission.REPORTS)
def export_cancel(request: HttpRequest, export_id: int) -> HttpResponse:
    export = _own_export(request, export_id)
    exports.cancel(export)
    export.refresh_from_db()
    if request.headers.get("HX-Request"):
        return render(request, "reports/export_row.html", {"export": export})
    return redirect("reports:exports")
