"""``POST /api/sync/push`` and ``GET /api/sync/pull``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from server.auth.schemas import Principal
from server.runtime import Runtime
from server.sync import service
from server.sync.messages import MutationResult, PullResponse, PushRequest, PushResponse

__all__ = ["ConflictController", "SyncController"]


class SyncController(Controller):
    """The sync protocol's two endpoints. Validation, permission and conflicts are per-mutation results."""

    path = "/api/sync"
    tags = ["sync"]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/push", status_code=HTTP_200_OK)
    async def push(
        self, data: JSONBody[PushRequest], principal: NamedDependency[Principal], runtime: NamedDependency[Runtime]
    ) -> PushResponse:
        """Apply the device's mutations in ``mid`` order; a replay returns the first results."""
        secret = await service.cursor_secret(runtime.sessions, runtime.secrets)
        wake = runtime.push.wake if runtime.push is not None else None
        return await service.push(runtime.sessions, runtime.keyring, secret, principal, data, on_queued=wake)

    @get("/pull")
    async def pull(
        self,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=2000)] = 1000,
        protocol: FromQuery[int | None] = None,
        schema_version: FromQuery[int | None] = None,
    ) -> PullResponse:
        """The next page of changes in the caller's scope after ``cursor``, and the cases to purge."""
        secret = await service.cursor_secret(runtime.sessions, runtime.secrets)
        return await service.pull(
            runtime.sessions, runtime.keyring, secret, principal, cursor_text=cursor, limit=limit, protocol=protocol
        )


class ResolveRequest(msgspec.Struct, kw_only=True, frozen=True):
    """The chosen value: the field's new value, or ``"keep"``/``"delete"`` for an edit-versus-delete conflict."""

    value: Any


class ConflictController(Controller):
    """Conflicts for the office: which are open in my team, and resolve one with a chosen value."""

    path = "/api/conflicts"
    tags = ["sync"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def list_conflicts(
        self,
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        status: FromQuery[Literal["open", "resolved"]] = "open",
    ) -> list[service.ConflictView]:
        """Conflicts in the caller's scope with both values, oldest first."""
        return await service.list_conflicts(runtime.sessions, runtime.keyring, principal, status=status)

    @post("/{conflict_id:uuid}/resolve", status_code=HTTP_200_OK)
    async def resolve(
        self,
        conflict_id: FromPath[uuid.UUID],
        data: JSONBody[ResolveRequest],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
    ) -> MutationResult:
        """Resolve with the chosen value; the record and the conflict change as new versions."""
        return await service.resolve_conflict(runtime.sessions, runtime.keyring, principal, conflict_id, data.value)
