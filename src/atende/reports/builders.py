"""The four reports (RP-1..4), each a `Report` of charts and tables read from the cells."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from atende.reports.figures import Figures, backlog_before, cells, grouped
from atende.reports.filters import BREAKDOWNS, Period, ReportFilters, Scope
from atende.reports.names import channel_names, key_labels, label, service_names
from atende.reports.shapes import Chart, Report, Table, duration, percent
from atende.tenancy.models import Membership
from atende.tickets.models import OPEN_STATUSES
from atende.tickets.visibility import visible_tickets

AT_RISK_MINUTES = 60
AT_RISK_LIMIT = 50


def _opened() -> str:
    # A count of tickets ("Abertos"), not the date a ticket was opened ("Aberto em").
    return pgettext("tickets opened, a count", "Opened")


def no_csat() -> str:
    # The satisfaction survey stores its answers elsewhere; until it does, say so.
    return _("No answers yet")


def _period_label(period: Period) -> str:
    return _("%(start)s to %(end)s") % {
        "start": formats.date_format(period.start, "SHORT_DATE_FORMAT"),
        "end": formats.date_format(period.end, "SHORT_DATE_FORMAT")}


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 1)


def dashboard(scope: Scope, filters: ReportFilters) -> Report:
    """RP-1: per channel and in total, per day: opened, resolved, backlog; first response
    and resolution as median and p90; handling time; CSAT."""
    period = filters.period
    names = channel_names(scope.organization_id)
    by_day_channel = grouped(cells(scope, filters, period),
                             lambda r: (r["day"], r["channel_id"]))
    channels = sorted({c for _d, c in by_day_channel}, key=lambda c: label(names, c))
    per_day: dict[Any, Figures] = {}
    per_channel: dict[int, Figures] = {}
    total = Figures()
    for (day, channel), figures in by_day_channel.items():
        for target in (per_day.setdefault(day, Figures()),
                       per_channel.setdefault(channel, Figures()), total):
            target.merge(figures)
    days = period.each_day()
    backlog = backlog_before(scope, filters, period.start)
    day_rows, backlog_series = [], []
    for day in days:
        figures = per_day.get(day, Figures())
        backlog += figures.backlog_delta
        backlog_series.append(backlog)
        day_rows.append([day, figures.opened, figures.resolved, backlog])
    labels = [formats.date_format(d, "SHORT_DATE_FORMAT") for d in days]
    opened_chart = Chart("opened", "bar", _("Tickets opened per day, by channel"), labels, [
        {"label": label(names, c),
         "data": [by_day_channel.get((d, c), Figures()).opened for d in days]}
        for c in channels], stacked=True)
    backlog_chart = Chart("backlog", "line", _("Opened, resolved and backlog per day"), labels, [
        {"label": _opened(), "data": [r[1] for r in day_rows]},
        {"label": _("Resolved"), "data": [r[2] for r in day_rows]},
        {"label": _("Backlog"), "data": backlog_series}])
    channel_rows = [_channel_row(label(names, c), per_channel[c]) for c in channels]
    channel_rows.append(_channel_row(_("Total"), total))
    response_chart = Chart("response", "bar", _("First response and resolution (median, minutes)"),
                           [label(names, c) for c in channels], [
        {"label": _("First response"),
         "data": [_minutes(per_channel[c].median("first_response_hist")) for c in channels]},
        {"label": _("Resolution"),
         "data": [_minutes(per_channel[c].median("resolution_hist")) for c in channels]}])
    return Report(
        "dashboard", _("Channel dashboard"), _period_label(period),
        charts=[opened_chart, backlog_chart, response_chart],
        tables=[
            Table(_("Per channel"), [
                _("Channel"), _opened(), _("Resolved"), _("First response, median"),
                _("First response, p90"), _("Resolution, median"), _("Resolution, p90"),
                _("Handling time, average"), _("CSAT")], channel_rows,
                note=_("Handling time: the time a ticket spent open (not waiting in the "
                       "queue nor on the customer) before it was resolved.")),
            Table(_("Per day"), [_("Day"), _opened(), _("Resolved"), _("Backlog")], day_rows),
        ],
        empty=not by_day_channel)


def _channel_row(name: str, f: Figures) -> list[Any]:
    return [name, f.opened, f.resolved,
            duration(f.median("first_response_hist")), duration(f.p90("first_response_hist")),
            duration(f.median("resolution_hist")), duration(f.p90("resolution_hist")),
            duration(f.mean("handling_seconds", "handled")), no_csat()]


def _breakdown(scope: Scope, filters: ReportFilters, period: Period) -> dict[Any, Figures]:
    by = filters.by
    if by in ("channel", "service"):
        field = f"{by}_id"
        return grouped(cells(scope, filters, period), lambda r: r[field])
    dimension = "agent" if by == "agent" else by
    return grouped(cells(scope, filters, period, dimension), lambda r: r["key"])


def _change(now: float | None, before: float | None) -> str:
    if not now and not before:
        return "—"
    if not before:
        return _("new")
    return f"{100.0 * ((now or 0) - before) / before:+.0f} %"


def period_report(scope: Scope, filters: ReportFilters) -> Report:
    """RP-2: this period against the one before it, by channel, service, agent, category
    or finalization tag."""
    period, previous = filters.period, filters.period.previous()
    now, before = _breakdown(scope, filters, period), _breakdown(scope, filters, previous)
    groups = now.keys() | before.keys()
    if filters.by == "channel":
        names = channel_names(scope.organization_id)
        labels = {g: label(names, g) for g in groups}
    elif filters.by == "service":
        names = service_names(scope.organization_id)
        labels = {g: label(names, g) for g in groups}
    else:
        labels = key_labels(scope.organization_id, filters.by, groups)
    ordered = sorted(groups, key=lambda g: labels[g])
    rows = []
    for group in ordered:
        a, b = now.get(group, Figures()), before.get(group, Figures())
        rows.append([labels[group], a.opened, b.opened, _change(a.opened, b.opened),
                     a.resolved, b.resolved, _change(a.resolved, b.resolved),
                     duration(a.median("first_response_hist")),
                     duration(b.median("first_response_hist")),
                     percent(a.compliance("sla_first_met", "sla_first_breached")),
                     percent(b.compliance("sla_first_met", "sla_first_breached"))])
    this_label, previous_label = _("This period"), _("Previous period")
    chart_labels = [labels[g] for g in ordered]
    charts = [
        Chart("compare-opened", "bar", _("Tickets opened: this period and the previous one"),
              chart_labels, [
                  {"label": this_label, "data": [now.get(g, Figures()).opened for g in ordered]},
                  {"label": previous_label,
                   "data": [before.get(g, Figures()).opened for g in ordered]}]),
        Chart("compare-response", "bar", _("First response, median (minutes)"), chart_labels, [
            {"label": this_label, "data": [
                _minutes(now.get(g, Figures()).median("first_response_hist")) for g in ordered]},
            {"label": previous_label, "data": [
                _minutes(before.get(g, Figures()).median("first_response_hist"))
                for g in ordered]}]),
    ]
    table = Table(_("This period against the previous one"), [
        str(dict(BREAKDOWNS)[filters.by]), _opened(), _("Opened before"), _("Change"),
        _("Resolved"), _("Resolved before"), _("Change"), _("First response, median"),
        _("Before"), _("SLA first response met"), _("Before")], rows,
        note=_("Previous period: %(period)s.") % {"period": _period_label(previous)})
    return Report("period", _("Period report"), _period_label(period), charts=charts,
                  tables=[table], empty=not groups)


def agents_report(scope: Scope, filters: ReportFilters) -> Report:
    """RP-3: per agent, tickets handled, messages sent, median first response, time online
    and CSAT."""
    figures = grouped(cells(scope, filters, filters.period, "agent"), lambda r: r["key"])
    figures.pop("", None)  # unassigned work is no agent's
    labels = key_labels(scope.organization_id, "agent", figures)
    ordered = sorted(figures, key=lambda k: labels[k])
    rows = [[labels[k], figures[k].resolved, figures[k].messages_sent,
             duration(figures[k].median("first_response_hist")), _("Not recorded yet"),
             no_csat()] for k in ordered]
    chart = Chart("agents", "bar", _("Tickets resolved and messages sent per agent"),
                  [labels[k] for k in ordered], [
                      {"label": _("Tickets resolved"),
                       "data": [figures[k].resolved for k in ordered]},
                      {"label": _("Messages sent"),
                       "data": [figures[k].messages_sent for k in ordered]}])
    table = Table(_("Agent activity"), [
        _("Agent"), _("Tickets resolved"), _("Messages sent"), _("First response, median"),
        _("Time online"), _("CSAT")], rows,
        note=_("Satisfaction survey comments appear here once customers answer surveys."))
    return Report("agents", _("Agent activity"), _period_label(filters.period), charts=[chart],
                  tables=[table], empty=not figures)


def _sla_row(name: str, f: Figures) -> list[Any]:
    return [name, f.sla_first_met, f.sla_first_breached,
            percent(f.compliance("sla_first_met", "sla_first_breached")),
            f.sla_resolution_met, f.sla_resolution_breached,
            percent(f.compliance("sla_resolution_met", "sla_resolution_breached"))]


def sla_report(scope: Scope, filters: ReportFilters, membership: Membership) -> Report:
    """RP-4: compliance per channel and service, breaches over time, tickets at risk now."""
    period = filters.period
    rows = cells(scope, filters, period)
    by_channel = grouped(rows, lambda r: r["channel_id"])
    by_service = grouped(rows, lambda r: r["service_id"])
    by_day = grouped(rows, lambda r: r["day"])
    channels, services = channel_names(scope.organization_id), service_names(scope.organization_id)
    columns = [_("First response met"), _("First response breached"), _("Compliance"),
               _("Resolution met"), _("Resolution breached"), _("Compliance")]
    days = period.each_day()
    chart = Chart("breaches", "line", _("SLA breaches per day"),
                  [formats.date_format(d, "SHORT_DATE_FORMAT") for d in days], [
                      {"label": _("First response"),
                       "data": [by_day.get(d, Figures()).sla_first_breached for d in days]},
                      {"label": _("Resolution"),
                       "data": [by_day.get(d, Figures()).sla_resolution_breached for d in days]}])
    return Report("sla", _("SLA monitoring"), _period_label(period), charts=[chart], tables=[
        Table(_("Per channel"), [_("Channel"), *columns],
              [_sla_row(label(channels, c), f) for c, f in
               sorted(by_channel.items(), key=lambda i: label(channels, i[0]))]),
        Table(_("Per service"), [_("Service"), *columns],
              [_sla_row(label(services, s), f) for s, f in
               sorted(by_service.items(), key=lambda i: label(services, i[0]))]),
        Table(_("Breaches per day"), [_("Day"), _("First response"), _("Resolution")],
              [[d, by_day.get(d, Figures()).sla_first_breached,
                by_day.get(d, Figures()).sla_resolution_breached] for d in days]),
        at_risk(membership, filters),
    ], empty=not by_day)


def at_risk(membership: Membership, filters: ReportFilters) -> Table:
    """Open tickets the agent may see whose SLA is due within the hour or already past."""
    now = timezone.now()
    qs = visible_tickets(membership).filter(
        status__in=OPEN_STATUSES, sla_due_at__lte=now + timedelta(minutes=AT_RISK_MINUTES))
    if filters.channel_id:
        qs = qs.filter(channel_id=filters.channel_id)
    if filters.service_id:
        qs = qs.filter(service_id=filters.service_id)
    rows = [[t.protocol, t.subject, timezone.localtime(t.sla_due_at),
             _("Late") if t.sla_due_at and t.sla_due_at <= now else _("Due soon")]
            for t in qs.order_by("sla_due_at", "id")[:AT_RISK_LIMIT]]
    return Table(_("Tickets at risk now"), [_("Ticket"), _("Subject"), _("Due"), _("State")],
                 rows, note=_("Open tickets due within the hour or already late (at most "
                              "%(n)s).") % {"n": AT_RISK_LIMIT})
