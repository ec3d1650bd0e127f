"""``POST /api/sync/push``, ``GET /api/sync/pull`` and the drift check ``POST /api/sync/check``."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from server.auth.guards import refuses_manager
from server.auth.schemas import Principal
from server.metrics import PULL_CHANGES, PULL_SECONDS, PUSH_MUTATIONS, PUSH_SECONDS
from server.sync.conflicts import ConflictView
from server.sync.drift import CheckRequest, CheckResponse
from server.sync.messages import MutationResult, PullResponse, PushRequest, PushResponse
from server.sync.service import SyncService

__all__ = ["ConflictController", "SyncController"]


class SyncController(Controller):
    """The sync protocol's endpoints. Validation, permission and conflicts are per-mutation results."""

    path = "/api/sync"
    guards = [refuses_manager]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["sync"]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/push", status_code=HTTP_200_OK)
    async def push(
        self, data: JSONBody[PushRequest], principal: NamedDependency[Principal], sync: NamedDependency[SyncService]
    ) -> PushResponse:
        """Apply the device's mutations in ``mid`` order; a replay returns the first results."""
        began = time.perf_counter()
        answer = await sync.push(principal, data)
        PUSH_SECONDS.observe(time.perf_counter() - began)
        PUSH_MUTATIONS.observe(len(data.mutations))
        return answer

    @get("/pull")
    async def pull(
        self,
        principal: NamedDependency[Principal],
        sync: NamedDependency[SyncService],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=2000)] = 1000,
        protocol: FromQuery[int | None] = None,
        schema_version: FromQuery[int | None] = None,
    ) -> PullResponse:
        """The next page of changes in the caller's scope after ``cursor``, and the cases to purge."""
        began = time.perf_counter()
        page = await sync.pull(principal, cursor=cursor, limit=limit, protocol=protocol, schema_version=schema_version)
        PULL_SECONDS.observe(time.perf_counter() - began)
        PULL_CHANGES.observe(len(page.changes))
        return page

    @post("/check", status_code=HTTP_200_OK)
    async def check(
        self, data: JSONBody[CheckRequest], principal: NamedDependency[Principal], sync: NamedDependency[SyncService]
    ) -> CheckResponse:
        """The drift check: the device's digest per case against its scope; the differing cases come back whole."""
        return await sync.check(principal, data)


class ResolveRequest(msgspec.Struct, kw_only=True, frozen=True):
    """The chosen value: the field's new value, or ``"keep"``/``"delete"`` for an edit-versus-delete conflict."""

    value: Any


class ConflictController(Controller):
    """Conflicts for the office: which are open in my team, and resolve one with a chosen value."""

    path = "/api/conflicts"
    guards = [refuses_manager]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["sync"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def list_conflicts(
        self,
        principal: NamedDependency[Principal],
        sync: NamedDependency[SyncService],
        status: FromQuery[Literal["open", "resolved", "obsolete"]] = "open",
    ) -> list[ConflictView]:
        """Conflicts in the caller's scope with both values, oldest first."""
        return await sync.conflicts(principal, status=status)

    @post("/{conflict_id:uuid}/resolve", status_code=HTTP_200_OK)
    async def resolve(
        self,
        conflict_id: FromPath[uuid.UUID],
        data: JSONBody[ResolveRequest],
        principal: NamedDependency[Principal],
        sync: NamedDependency[SyncService],
    ) -> MutationResult:
        """Resolve with the chosen value; the record and the conflict change as new versions."""
        return await sync.resolve(principal, conflict_id, data.value)
