"""``/api/referrals``: property management hands households over, the team's supervisor takes them on (docs/domain.md
"Referrals"); and the referrer's own page, ``/meldungen``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.auth.models import Role
from server.auth.schemas import Principal
from server.intake.court import NoticeResult, enter_notices
from server.intake.csvfile import COURT_COLUMNS, read_rows
from server.intake.fields import (
    Accepted,
    CourtNotice,
    DeclineReason,
    InboxItem,
    ReferralFields,
    ReferralFileOut,
    ReferralOut,
)
from server.intake.files import add_file, file_bytes
from server.intake.models import Referral
from server.intake.rules import team_of
from server.intake.service import Intake
from server.problems import NotFound, UnsupportedMediaType, ValidationFailed
from server.records.documents import MAX_ATTACHMENT_BYTES

__all__ = ["CourtNoticeController", "ReferralController", "ReferrerPage"]


FILE_BODY_BYTES = MAX_ATTACHMENT_BYTES + 64 * 1024


class AcceptIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Take a referral on: for ``worker_id`` (or nobody yet); ``link_case_id`` links an open case instead."""

    worker_id: uuid.UUID | None = None
    link_case_id: uuid.UUID | None = None


class DeclineIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    reason: DeclineReason


class ImportOut(msgspec.Struct, kw_only=True, frozen=True):
    created: int
    repeats: list[int]  # the lines of rows that were handed over before and are still in hand
    ids: list[uuid.UUID]


class ReferralController(Controller):
    """Referrals: a referrer's own list and form; the supervisor's inbox, decisions and CSV import."""

    path = "/api/referrals"
    tags = ["referrals"]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/", status_code=HTTP_201_CREATED)
    async def submit(
        self, principal: NamedDependency[Principal], intake: NamedDependency[Intake], data: JSONBody[ReferralFields]
    ) -> ReferralOut:
        """Hand a household over to the team (a referrer, or the team's supervisor for the office). A tenancy
        already handed over and still being dealt with is 409."""
        return await intake.submit(principal, data)

    @get("/")
    async def mine(self, principal: NamedDependency[Principal], intake: NamedDependency[Intake]) -> list[ReferralOut]:
        """The caller's own referrals with their course (received, contact attempted, in counselling, closed)."""
        return await intake.mine(principal)

    @get("/inbox")
    async def inbox(self, principal: NamedDependency[Principal], intake: NamedDependency[Intake]) -> list[InboxItem]:
        """The team's referrals to decide, with the open cases that may be the same household (supervisors)."""
        return await intake.inbox(principal)

    @post("/{referral_id:uuid}/accept", status_code=HTTP_200_OK)
    async def accept(
        self,
        referral_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        intake: NamedDependency[Intake],
        data: JSONBody[AcceptIn],
    ) -> Accepted:
        """Take the household on: a new case for the worker (who gets a push message), or the open case named or
        found by the duplicate check; 409 when decided already."""
        return await intake.accept(principal, referral_id, worker_id=data.worker_id, link_case_id=data.link_case_id)

    # A file comes whole in one request, up to an attachment's size (the router's limit is for JSON).
    @post("/{referral_id:uuid}/files", status_code=HTTP_201_CREATED, request_max_body_size=FILE_BODY_BYTES)
    async def add_file(
        self,
        referral_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        intake: NamedDependency[Intake],
        title: Annotated[str, QueryParameter(max_length=200, description="what the file is")] = "Unterlage",
    ) -> ReferralFileOut:
        """A file for the caller's own referral while it waits (the body: a PDF, JPEG, PNG or WebP, 20 MiB at
        most, checked by its bytes)."""
        async with intake.sessions() as db:
            return await add_file(db, intake.keyring, principal, referral_id, title, await request.body())

    @get("/{referral_id:uuid}/files/{file_id:uuid}", media_type="application/octet-stream")
    async def file(
        self,
        referral_id: FromPath[uuid.UUID],
        file_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        intake: NamedDependency[Intake],
    ) -> Response[bytes]:
        """One file of a referral in the team's inbox (supervisors)."""
        team_id, _ = team_of(principal, (Role.SUPERVISOR,))
        async with intake.sessions() as db:
            referral = await db.get(Referral, referral_id)
            if referral is None or referral.team_id != team_id:
                raise NotFound("No such file of the referral.")
            content_type, body = await file_bytes(db, intake.keyring, referral_id, file_id)
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    @post("/{referral_id:uuid}/decline", status_code=HTTP_204_NO_CONTENT)
    async def decline(
        self,
        referral_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        intake: NamedDependency[Intake],
        data: JSONBody[DeclineIn],
    ) -> None:
        """Decline with a reason (not our area, already supported, settled, no consent, other)."""
        await intake.decline(principal, referral_id, data.reason)

    @post("/import", status_code=HTTP_200_OK)
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        intake: NamedDependency[Intake],
    ) -> ImportOut:
        """The landlord's list as CSV (``text/csv``, one row per tenancy): every row or none; a wrong row is named
        by its line; a tenancy handed over before and still in hand is a repeat and creates nothing."""
        rows = read_rows(await _csv_text(request))
        result = await intake.import_rows(principal, rows)
        return ImportOut(created=result["created"], repeats=result["repeats"], ids=result["ids"])


class NoticesIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A batch of the court's notices, and the worker responsible for the new cases (or nobody yet)."""

    notices: Annotated[list[CourtNotice], msgspec.Meta(min_length=1, max_length=500)]
    worker_id: uuid.UUID | None = None


class CourtNoticeController(Controller):
    """The court's notices of eviction lawsuits, entered by the office: each a case in "Erstanschreiben" with its
    deadline, or a step on the household's open case (supervisors)."""

    path = "/api/court-notices"
    tags = ["referrals"]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/", status_code=HTTP_200_OK)
    async def enter(
        self, principal: NamedDependency[Principal], intake: NamedDependency[Intake], data: JSONBody[NoticesIn]
    ) -> list[NoticeResult]:
        """Enter a batch, every notice or none; a notice entered before (same court and Aktenzeichen) is a repeat."""
        return await enter_notices(intake, principal, data.notices, data.worker_id)

    @post("/import", status_code=HTTP_200_OK)
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        intake: NamedDependency[Intake],
        worker_id: Annotated[uuid.UUID | None, QueryParameter(description="responsible for the new cases")] = None,
    ) -> list[NoticeResult]:
        """The notices as CSV (``text/csv``: Gericht, Aktenzeichen, Eingereicht am, Zugestellt am, Name, Straße,
        Hausnummer, Wohnung, PLZ, Ort): every row or none, a wrong row named by its line."""
        rows = read_rows(await _csv_text(request), COURT_COLUMNS, CourtNotice)
        return await enter_notices(intake, principal, [notice for _, notice in rows], worker_id)


async def _csv_text(request: Request[Any, Any, Any]) -> str:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("text/csv", "text/plain"):
        raise UnsupportedMediaType("Send the file as text/csv.")
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text; save it as CSV UTF-8.") from None


class ReferrerPage(Controller):
    """The page where property management hands households over and follows them, in any browser: nothing is kept
    on the device."""

    path = "/meldungen"
    include_in_schema = False

    @get("/", opt={"exclude_from_auth": True})
    async def page(self) -> Template:
        return Template(template_name="referrals.html", context={}, headers={"Cache-Control": "no-store"})
