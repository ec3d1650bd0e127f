"""Office read API: ``GET /api/cases`` and ``GET /api/cases/{case_id}``."""

from __future__ import annotations

import uuid
from typing import Literal

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from server.auth.schemas import Principal
from server.records.service import CaseDetail, CaseFilters, CaseReads, CaseSummary

__all__ = ["CaseController"]


class CaseController(Controller):
    """Cases in the caller's scope, decrypted, every read audited."""

    path = "/api/cases"
    tags = ["cases"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def list(
        self,
        principal: NamedDependency[Principal],
        cases: NamedDependency[CaseReads],
        status: FromQuery[Literal["open", "closed"] | None] = None,
        risk: FromQuery[Literal["low", "medium", "high", "acute"] | None] = None,
        overdue: FromQuery[bool | None] = None,
    ) -> list[CaseSummary]:
        """My cases (a worker's) or my team's (a supervisor's), filtered by status, risk and overdue visits."""
        filters = CaseFilters(status=status, risk=risk, overdue=overdue)
        return await cases.list(principal, filters)

    @get("/{case_id:uuid}")
    async def detail(
        self,
        case_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        cases: NamedDependency[CaseReads],
    ) -> CaseDetail:
        """One case with its records. A case outside the caller's scope is 404, as if it did not exist."""
        return await cases.detail(principal, case_id)
