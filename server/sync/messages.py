"""Wire messages of sync protocol version 1 (docs/sync-protocol.md), decoded and encoded with msgspec.

Mutations are a tagged union on ``op``. Field values stay loosely typed here (``dict[str, Any]``) and are
validated per mutation against the kind's schema, so one bad record is a per-mutation ``rejected`` result and
never a failed batch.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec

from server.problems import ValidationFailed, without_values
from server.records.service import RecordOut

__all__ = [
    "MAX_MUTATIONS",
    "PROTOCOL_VERSION",
    "Change",
    "DeleteMutation",
    "ErrorCode",
    "Malformed",
    "Mutation",
    "MutationError",
    "MutationResult",
    "PullResponse",
    "PushRequest",
    "PushResponse",
    "PutMutation",
    "ResolveMutation",
    "read_mutation",
    "read_mutations",
]

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1
MAX_MUTATIONS = 500

Mid = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Version = Annotated[int, msgspec.Meta(ge=0, le=2**62)]
KindName = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class _Mutation(msgspec.Struct, kw_only=True, frozen=True, tag_field="op"):
    mid: Mid


class PutMutation(_Mutation, tag="put", frozen=True, kw_only=True):
    """Upsert the named fields of a record."""

    kind: KindName
    id: uuid.UUID
    case_id: uuid.UUID
    base_version: Version | None
    fields: dict[str, Any]


class DeleteMutation(_Mutation, tag="delete", frozen=True, kw_only=True):
    """Delete a record the device has seen at ``base_version``."""

    kind: KindName
    id: uuid.UUID
    case_id: uuid.UUID
    base_version: Version | None


class ResolveMutation(_Mutation, tag="resolve", frozen=True, kw_only=True):
    """Resolve a conflict with a chosen value (``"keep"``/``"delete"`` for an edit-versus-delete conflict)."""

    conflict_id: uuid.UUID
    value: Any


Mutation = PutMutation | DeleteMutation | ResolveMutation


class PushRequest(msgspec.Struct, kw_only=True, frozen=True):
    """``POST /api/sync/push``. Each mutation is read on its own (:func:`read_mutation`), so one malformed
    mutation is a rejected result and never a failed batch."""

    protocol: Annotated[int, msgspec.Meta(ge=1)] = PROTOCOL_VERSION
    device_id: uuid.UUID
    schema_version: Annotated[int, msgspec.Meta(ge=1)] = 1
    cursor: str | None = None
    mutations: Annotated[
        list[dict[str, Any]],
        msgspec.Meta(
            description='Mutations: {"op": "put", "mid", "kind", "id", "case_id", "base_version", "fields"}, '
            '{"op": "delete", "mid", "kind", "id", "case_id", "base_version"} or {"op": "resolve", "mid", '
            '"conflict_id", "value"} (docs/sync-protocol.md).'
        ),
    ]


ErrorCode = Literal["validation", "forbidden", "not-found", "stale-mid", "append-only", "stale"]


class MutationError(msgspec.Struct, kw_only=True, frozen=True):
    """Why a mutation was rejected."""

    code: ErrorCode
    detail: str
    field: str | None = None


class MutationResult(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """The outcome of one mutation; a replay returns the stored first result unchanged."""

    mid: int
    status: Literal["applied", "conflict", "rejected"]
    version: int | None = None
    conflict_id: uuid.UUID | None = None
    error: MutationError | None = None
    flag: str | None = None


class PushResponse(msgspec.Struct, kw_only=True, frozen=True):
    """The per-mutation results and the device's ``last_mid`` afterwards."""

    results: list[MutationResult]
    last_mid: int


# One record in a pull page (its full current state, or a tombstone): the same struct a case read returns, so the
# two shapes clients receive cannot drift apart.
Change = RecordOut


class PullResponse(msgspec.Struct, kw_only=True, frozen=True):
    """A page of changes, the cases to purge, and the cursor to continue from."""

    changes: list[Change]
    purge: list[uuid.UUID]
    cursor: str
    has_more: bool
    # An additive extension: changes that follow this page in the same snapshot, for a progress bar.
    remaining: int = 0


class Malformed(msgspec.Struct, kw_only=True, frozen=True):
    """A mutation whose envelope could not be read (a negative base version, an id that is no UUID ...)."""

    mid: int
    error: MutationError


def read_mutation(raw: dict[str, Any]) -> Mutation | Malformed:
    """One mutation of a push, typed; a malformed one becomes :class:`Malformed` and is rejected on its own.

    Only a mutation without a usable ``mid`` fails the whole request: its result could not be matched to it.
    """
    mid = raw.get("mid")
    if not isinstance(mid, int) or isinstance(mid, bool) or not 1 <= mid <= 2**53:
        raise ValidationFailed("Every mutation needs a mid, a whole number from 1.", field="mutations")
    try:
        mutation: Mutation = msgspec.convert(raw, Mutation)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit("- at `$.", 1)[1].rstrip("`") if "- at `$." in message else None
        field = path.split(".", 1)[0].split("[", 1)[0] if path else None
        detail = without_values(message.split(" - at ")[0])
        return Malformed(mid=mid, error=MutationError(code="validation", detail=detail, field=field))
    return mutation


def read_mutations(raws: list[dict[str, Any]]) -> list[Mutation | Malformed]:
    """Every mutation of a push, typed in one pass when all are well-formed, one by one otherwise."""
    try:
        typed: list[Mutation] = msgspec.convert(raws, list[Mutation])
    except msgspec.ValidationError:
        return [read_mutation(raw) for raw in raws]
    return list(typed)
