"""``/api/reports`` (figures, charts, CSV) and the printable annual report at ``/berichte/jahresbericht``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from server.auth.guards import requires_manager, requires_reporter, requires_supervisor
from server.auth.models import Role
from server.auth.schemas import Principal
from server.db import utcnow
from server.problems import NotFound, ValidationFailed
from server.reports import charts, export
from server.reports.organisation import OrganisationReport, organisation_report
from server.reports.service import Report, Reports
from server.reports.words import period_words

__all__ = ["AnnualReportPage", "OrganisationReportController", "ReportController"]

Day = Annotated[dt.date, QueryParameter(description="first day of the period (YYYY-MM-DD)")]
EndDay = Annotated[dt.date, QueryParameter(description="last day of the period, inclusive (YYYY-MM-DD)")]


class ReportController(Controller):
    """The team's figures, charts and CSV exports, for supervisors."""

    path = "/api/reports"
    guards = [requires_supervisor]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["reports"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def figures(
        self, principal: NamedDependency[Principal], reports: NamedDependency[Reports], start: Day, end: EndDay
    ) -> Report:
        """The team's figures for the period (supervisors only; every read is audited)."""
        return await reports.team_report(principal, start, end)

    @get("/charts/{chart:str}", media_type="image/svg+xml")
    async def chart(
        self,
        chart: FromPath[str],
        principal: NamedDependency[Principal],
        reports: NamedDependency[Reports],
        start: Day,
        end: EndDay,
    ) -> Response[str]:
        """An accessible SVG chart: ``success`` (rate per month), ``contacts`` (by channel), ``outcomes``."""
        if chart not in charts.CHARTS:
            raise NotFound(f"No chart named {chart!r}; there are {', '.join(sorted(charts.CHARTS))}.")
        drawn = charts.chart(chart, await reports.team_report(principal, start, end))
        assert drawn is not None
        return Response(drawn, media_type="image/svg+xml")

    @get("/export", media_type="text/csv")
    async def export_csv(
        self,
        principal: NamedDependency[Principal],
        reports: NamedDependency[Reports],
        start: Day,
        end: EndDay,
        table: Annotated[Literal["figures", "cases", "statistics"], QueryParameter()] = "figures",
        separator: Annotated[Literal["comma", "semicolon"], QueryParameter()] = "semicolon",
    ) -> Response[str]:
        """The report's tables, the Land's statistics (small cells suppressed) or the anonymised case list, as CSV
        (UTF-8 with BOM)."""
        report = await reports.team_report(principal, start, end, with_cases=table == "cases")
        german = separator == "semicolon"
        if table == "cases":
            body = export.cases_csv(report, german)
        else:
            body = export.figures_csv(report, german, statistics=table == "statistics")
        return _csv(body, table, start, end)


class AnnualReportPage(Controller):
    """The printable report (A4) of a year or any period: a supervisor's of the team, the management's of the
    whole organisation with each team's key figures."""

    path = "/berichte"
    guards = [requires_reporter]  # noqa: RUF012 - Litestar reads this class attribute
    include_in_schema = False

    @get("/jahresbericht")
    async def annual(
        self,
        principal: NamedDependency[Principal],
        reports: NamedDependency[Reports],
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        start: Annotated[dt.date | None, QueryParameter()] = None,
        end: Annotated[dt.date | None, QueryParameter()] = None,
    ) -> Template:
        """A print-friendly report: ``year`` (default: this year) or ``start`` and ``end``; the browser's "print
        to PDF" makes the document."""
        if (start is None) != (end is None):
            raise ValidationFailed("Give both start and end, or a year.", field="end" if end is None else "start")
        if start is None or end is None:
            year = year or utcnow().astimezone(ZoneInfo(reports.time_zone)).year
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        teams: list[Report] = []
        if principal.role is Role.MANAGER:
            whole = await organisation_report(
                reports.sessions, reports.keyring, principal, start=start, end=end, time_zone=reports.time_zone
            )
            report, teams = whole.total.report, [team.report for team in whole.teams]
        else:
            report = await reports.team_report(principal, start, end)
        calendar_year = (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year
        period = period_words(start, end, report.country)
        return Template(
            template_name="report.html",
            context={
                "report": report,
                "teams": teams,
                "title": f"Jahresbericht {start.year}" if calendar_year else f"Bericht {period}",
                "charts": {name: draw(report) for name, draw in charts.CHARTS.items()},
            },
            headers={"Cache-Control": "no-store"},
        )


def _csv(body: str, table: str, start: dt.date, end: dt.date) -> Response[str]:
    name = f"doorstep-{table}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


class OrganisationReportController(Controller):
    """The figures of every team and in total, beside the year before, for the organisation's management."""

    path = "/api/reports/organisation"
    guards = [requires_manager]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["reports"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def organisation(
        self, principal: NamedDependency[Principal], reports: NamedDependency[Reports], start: Day, end: EndDay
    ) -> OrganisationReport:
        """Each team's report and the total, with the same period of the year before beside each line (managers
        only; never a case's content; every read is audited)."""
        return await organisation_report(
            reports.sessions, reports.keyring, principal, start=start, end=end, time_zone=reports.time_zone
        )

    @get("/export", media_type="text/csv")
    async def export_csv(
        self,
        principal: NamedDependency[Principal],
        reports: NamedDependency[Reports],
        start: Day,
        end: EndDay,
        table: Annotated[Literal["figures", "statistics"], QueryParameter()] = "figures",
        separator: Annotated[Literal["comma", "semicolon"], QueryParameter()] = "semicolon",
    ) -> Response[str]:
        """The organisation's lines as CSV: one column for the whole organisation, one per team and the year
        before (``figures``), or the Land's statistics with small cells suppressed (``statistics``)."""
        whole = await organisation_report(
            reports.sessions, reports.keyring, principal, start=start, end=end, time_zone=reports.time_zone
        )
        return _csv(
            export.organisation_csv(whole, separator == "semicolon", statistics=table == "statistics"),
            table,
            start,
            end,
        )
