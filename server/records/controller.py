"""Office read API: ``GET /api/cases``, ``GET /api/cases/{case_id}`` and the intake's duplicate check."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK

from server.auth.schemas import Principal
from server.records.calendar import CalendarOut
from server.records.service import CaseDetail, CaseFilters, CaseReads, CaseSummary, DuplicateAnswer, DuplicateQuery

__all__ = ["CalendarController", "CaseController"]


class CaseController(Controller):
    """Cases in the caller's scope, decrypted, every read audited."""

    path = "/api/cases"
    tags = ["cases"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def list(
        self,
        principal: NamedDependency[Principal],
        cases: NamedDependency[CaseReads],
        status: FromQuery[Literal["open", "closing_requested", "closed"] | None] = None,
        risk: FromQuery[Literal["low", "medium", "high", "acute"] | None] = None,
        overdue: FromQuery[bool | None] = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> list[CaseSummary]:
        """My cases (a worker's) or my team's (a supervisor's), filtered by status, risk and overdue visits, and
        searched with ``q`` over names, address, phone and court references (Aktenzeichen)."""
        filters = CaseFilters(status=status, risk=risk, overdue=overdue, q=q)
        return await cases.list(principal, filters)

    @post("/duplicates", status_code=HTTP_200_OK)
    async def duplicates(
        self, data: JSONBody[DuplicateQuery], principal: NamedDependency[Principal], cases: NamedDependency[CaseReads]
    ) -> DuplicateAnswer:
        """The duplicate check at intake: open cases of the caller's team at this address or with these tenants.

        Answers who is responsible; the case id only for a case in the caller's scope. Nothing across teams.
        """
        return await cases.duplicates(principal, data)

    @get("/{case_id:uuid}")
    async def detail(
        self,
        case_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        cases: NamedDependency[CaseReads],
    ) -> CaseDetail:
        """One case with its records. A case outside the caller's scope is 404, as if it did not exist."""
        return await cases.detail(principal, case_id)


class CalendarController(Controller):
    """``/api/calendar``: the organisation's public holidays, so that the tablet computes deadlines offline."""

    path = "/api/calendar"
    tags = ["cases"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def calendar(self, principal: NamedDependency[Principal], cases: NamedDependency[CaseReads]) -> CalendarOut:
        """The region (country, Land) and its public holidays from two years back to two years ahead."""
        return await cases.calendar()
