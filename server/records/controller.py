"""Office read API (``GET /api/cases``, ``GET /api/cases/{case_id}``, the intake's duplicate check) and the bytes of
attachments (``/api/attachments``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.auth.guards import refuses_manager, requires_supervisor
from server.auth.schemas import Principal
from server.auth.state import AuthState
from server.db import utcnow
from server.problems import UnsupportedMediaType, ValidationFailed
from server.records import retention
from server.records.appointments import AppointmentIn, AppointmentOut, Appointments, DayOut, SlotOut
from server.records.calendar import CalendarOut
from server.records.disclosure import Disclosure, household_disclosure
from server.records.enquiries import Enquiries, EnquiryIn, EnquiryOut
from server.records.service import CaseDetail, CaseFilters, CaseReads, CaseSummary, DuplicateAnswer, DuplicateQuery
from server.records.uploads import Uploads, UploadSpec, UploadState

__all__ = [
    "AppointmentController",
    "AttachmentController",
    "CalendarController",
    "CaseController",
    "DisclosureController",
    "EnquiryController",
    "RetentionController",
]


class CaseController(Controller):
    """Cases in the caller's scope, decrypted, every read audited."""

    path = "/api/cases"
    guards = [refuses_manager]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["cases"]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/search", status_code=HTTP_200_OK)
    async def search(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CaseFilters],
        principal: NamedDependency[Principal],
        cases: NamedDependency[CaseReads],
    ) -> list[CaseSummary]:
        """The case list searched with ``q`` over names, address, phone and court references (Aktenzeichen), with
        the same filters as ``GET /api/cases``, all in the body (docs/security.md case 55)."""
        try:  # strictly typed, as documented: ``"overdue": 0`` is no boolean
            msgspec.json.decode(await request.body(), type=CaseFilters)
        except msgspec.ValidationError as exc:
            raise ValidationFailed("The search is not valid.", field=_field_of(exc)) from None
        return await cases.list(principal, data)

    @get("/")
    async def list(
        self,
        principal: NamedDependency[Principal],
        cases: NamedDependency[CaseReads],
        status: FromQuery[Literal["open", "closing_requested", "closed"] | None] = None,
        risk: FromQuery[Literal["low", "medium", "high", "acute"] | None] = None,
        overdue: FromQuery[bool | None] = None,
        *,
        request: Request[Any, Any, Any],
    ) -> list[CaseSummary]:
        """My cases (a worker's) or my team's (a supervisor's), filtered by status, risk and overdue visits. A search
        term goes in the body of ``POST /api/cases/search``: one in the URL is refused, since URLs end up in logs."""
        if "q" in request.query_params:
            raise ValidationFailed(
                "Send search terms in the body of POST /api/cases/search, not in the URL.", field="q"
            )
        filters = CaseFilters(status=status, risk=risk, overdue=overdue)
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
        return await cases.calendar(principal)


_UPLOAD_MEDIA_TYPE = "application/offset+octet-stream"


class AttachmentController(Controller):
    """``/api/attachments``: the bytes of attachment records, uploaded in resumable chunks and downloaded whole."""

    path = "/api/attachments"
    guards = [refuses_manager]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["attachments"]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/{attachment_id:uuid}/upload", status_code=HTTP_200_OK)
    async def open_upload(
        self,
        attachment_id: FromPath[uuid.UUID],
        data: JSONBody[UploadSpec],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[Uploads],
    ) -> Response[UploadState]:
        """Declare a file (case, size, SHA-256, content type): ``201`` opened, ``200`` already open (the same
        declaration again answers where the upload stands)."""
        state, opened = await uploads.create(principal, attachment_id, data)
        return Response(state, status_code=HTTP_201_CREATED if opened else HTTP_200_OK, headers=_offset(state))

    @get("/{attachment_id:uuid}/upload")
    async def upload_state(
        self,
        attachment_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[Uploads],
    ) -> Response[UploadState]:
        """How many bytes the server holds: where to continue after a failure."""
        state = await uploads.state(principal, attachment_id)
        return Response(state, headers={**_offset(state), "Cache-Control": "no-store"})

    @patch("/{attachment_id:uuid}/upload", status_code=HTTP_200_OK)
    async def append_chunk(
        self,
        request: Request[Any, Any, Any],
        attachment_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[Uploads],
    ) -> Response[UploadState]:
        """Append the body (``application/offset+octet-stream``) at ``Upload-Offset``."""
        if request.headers.get("content-type", "").split(";")[0].strip() != _UPLOAD_MEDIA_TYPE:
            raise UnsupportedMediaType(f"A chunk is sent as {_UPLOAD_MEDIA_TYPE}.")
        offset = request.headers.get("upload-offset", "")
        if not offset.isdigit() or len(offset) > 12:
            raise ValidationFailed("Upload-Offset must name the byte the chunk starts at.", field="Upload-Offset")
        state = await uploads.append(principal, attachment_id, int(offset), await request.body())
        return Response(state, headers=_offset(state))

    @get("/{attachment_id:uuid}")
    async def download(
        self,
        attachment_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[Uploads],
    ) -> Response[bytes]:
        """The file, verified against its hash; never cached, never shown inline, never sniffed."""
        file = await uploads.download(principal, attachment_id)
        return Response(
            file.content,
            media_type=file.content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{file.filename}"',
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
                "Digest": f"sha-256={file.sha256}",
            },
        )


def _offset(state: UploadState) -> dict[str, str]:
    return {"Upload-Offset": str(state.offset), "Upload-Length": str(state.size)}


class EnquiryController(Controller):
    """Anonymous enquiries and short counselling without a case, recorded by a team's members."""

    path = "/api/enquiries"
    guards = [refuses_manager]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["enquiries"]  # noqa: RUF012 - Litestar reads this class attribute

    @put(
        "/{enquiry_id:uuid}",
        status_code=HTTP_200_OK,
        responses={HTTP_201_CREATED: ResponseSpec(data_container=EnquiryOut, description="Recorded")},
    )
    async def record(
        self,
        enquiry_id: FromPath[uuid.UUID],
        data: JSONBody[EnquiryIn],
        principal: NamedDependency[Principal],
        enquiries: NamedDependency[Enquiries],
    ) -> Response[EnquiryOut]:
        """Record an enquiry under the id the device chose: ``201`` recorded, ``200`` recorded before (the same
        content again), ``409`` another content under this id. No names: every field is a choice or a number."""
        enquiry, created = await enquiries.record(principal, enquiry_id, data)
        return Response(enquiry, status_code=HTTP_201_CREATED if created else HTTP_200_OK)


class AppointmentController(Controller):
    """Appointments at the service centre, booked for callers without a name by a team's members."""

    path = "/api/appointments"
    guards = [refuses_manager]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["enquiries"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def day(
        self,
        day: FromQuery[dt.date],
        principal: NamedDependency[Principal],
        appointments: NamedDependency[Appointments],
    ) -> DayOut:
        """The team's slots of ``day`` in the office hours, each with the appointment that holds it."""
        return await appointments.day(principal, day)

    @get("/free")
    async def free(
        self, principal: NamedDependency[Principal], appointments: NamedDependency[Appointments]
    ) -> list[SlotOut]:
        """The next free slots: what a caller can be offered now."""
        return await appointments.free(principal)

    @put(
        "/{appointment_id:uuid}",
        status_code=HTTP_200_OK,
        responses={HTTP_201_CREATED: ResponseSpec(data_container=AppointmentOut, description="Booked")},
    )
    async def book(
        self,
        appointment_id: FromPath[uuid.UUID],
        data: JSONBody[AppointmentIn],
        principal: NamedDependency[Principal],
        appointments: NamedDependency[Appointments],
    ) -> Response[AppointmentOut]:
        """Book a slot under the id the device chose (``201``), or change the booking: move it, cancel it, record
        that it was held or missed (``200``). A taken slot is ``409``; a slot outside the office hours ``400``."""
        appointment, created = await appointments.book(principal, appointment_id, data)
        return Response(appointment, status_code=HTTP_201_CREATED if created else HTTP_200_OK)


class RetentionDue(msgspec.Struct, kw_only=True, frozen=True):
    case_id: uuid.UUID
    closed_on: dt.date
    erase_on: dt.date


class RetentionNotice(msgspec.Struct, kw_only=True, frozen=True):
    """The team's closed cases whose retention period ends within ``notice_days`` (none when ``years`` is 0)."""

    years: int
    notice_days: int
    due: list[RetentionDue]


class RetentionController(Controller):
    """``/api/retention``: what the supervisor's dashboard announces a month ahead of the erasure."""

    path = "/api/retention"
    guards = [requires_supervisor]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["cases"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def notice(self, principal: NamedDependency[Principal], auth: NamedDependency[AuthState]) -> RetentionNotice:
        """The caller's team's closed cases to be erased within the next 30 days, with the day of each."""
        years = auth.settings.retention_years
        today = utcnow().astimezone(ZoneInfo(auth.settings.report_time_zone)).date()
        found = await retention.due(
            auth.sessions, years=years, today=today, within_days=retention.NOTICE_DAYS, team_id=principal.team_id
        )
        return RetentionNotice(
            years=max(years, 0),
            notice_days=retention.NOTICE_DAYS,
            due=[RetentionDue(case_id=d.case_id, closed_on=d.closed_on, erase_on=d.erase_on) for d in found],
        )


class DisclosureController(Controller):
    """``/api/cases/{id}/disclosure``: the right of access (Art. 15 GDPR), for the team's supervisor."""

    path = "/api/cases"
    guards = [requires_supervisor]  # noqa: RUF012 - Litestar reads this class attribute
    tags = ["cases"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/{case_id:uuid}/disclosure")
    async def disclosure(
        self, case_id: FromPath[uuid.UUID], principal: NamedDependency[Principal], cases: NamedDependency[CaseReads]
    ) -> Disclosure:
        """Everything the team holds about the household of this case: every case that names it, each with its
        records and recorded course. Audited; out of scope is ``404``."""
        return await household_disclosure(cases.sessions, cases.keyring, principal, case_id)


def _field_of(error: msgspec.ValidationError) -> str | None:
    """The top-level field a msgspec validation error names (``... - at `$.overdue```)."""
    text = str(error)
    return text.rsplit("$.", 1)[1].split("`", 1)[0].split(".", 1)[0].split("[", 1)[0] if "$." in text else None
