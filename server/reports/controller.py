"""``/api/reports`` (figures, charts, CSV) and the printable annual report at ``/berichte/jahresbericht``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from server.auth.guards import requires_manager, requires_supervisor
from server.auth.schemas import Principal
from server.db import utcnow
from server.problems import NotFound, ValidationFailed
from server.reports import charts, export
from server.reports.organisation import OrganisationReport, organisation_report
from server.reports.service import Report, Reports

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
        table: Annotated[Literal["figures", "cases"], QueryParameter()] = "figures",
        separator: Annotated[Literal["comma", "semicolon"], QueryParameter()] = "semicolon",
    ) -> Response[str]:
        """The report's tables, or the anonymised case list, as CSV (UTF-8 with BOM)."""
        report = await reports.team_report(principal, start, end, with_cases=table == "cases")
        german = separator == "semicolon"
        body = export.cases_csv(report, german) if table == "cases" else export.figures_csv(report, german)
        name = f"doorstep-{table}-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


class AnnualReportPage(Controller):
    """The printable annual report, for supervisors."""

    path = "/berichte"
    guards = [requires_supervisor]  # noqa: RUF012 - Litestar reads this class attribute
    include_in_schema = False

    @get("/jahresbericht")
    async def annual(
        self,
        principal: NamedDependency[Principal],
        reports: NamedDependency[Reports],
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
    ) -> Template:
        """A print-friendly annual report (A4): the browser's "print to PDF" makes the document."""
        year = year or utcnow().astimezone(ZoneInfo(reports.time_zone)).year
        try:
            report = await reports.team_report(principal, dt.date(year, 1, 1), dt.date(year, 12, 31))
        except ValueError:
            raise ValidationFailed("Not a valid year.", field="year") from None
        return Template(
            template_name="report.html",
            context={
                "report": report,
                "year": year,
                "charts": {name: draw(report) for name, draw in charts.CHARTS.items()},
            },
            headers={"Cache-Control": "no-store"},
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
