"""Appointments at the service centre (docs/domain.md "Appointments"): a caller is offered a consultation in the
team's office hours, booked in two taps from the telephone enquiry, and told a booking number. Like an enquiry, an
appointment names nobody: when, about what, which enquiry it came from, and whether it was held. So nothing here is
encrypted and nothing needs erasing; the person who comes is met at the desk, and a case is opened (an intake) only
when they want counselling beyond the consultation.

The hours are the organisation's office hours on its working days (no weekend, no public holiday of its region),
cut into slots of ``appointment_minutes`` (``DOORSTEP_SERVICE_HOURS``, ``DOORSTEP_APPOINTMENT_MINUTES``). A slot holds
one appointment per team: the database refuses a second booking of a slot (a unique ``slot`` per team that a
cancellation frees), so two workers booking the last slot at once cannot both succeed.

A held appointment counts in the report as a personal consultation ("persönliche Beratung").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.models import Role
from server.auth.schemas import Principal
from server.db import begin_write, utcnow
from server.problems import Conflict, Forbidden, ValidationFailed
from server.records.calendar import Calendar, region_of
from server.records.enquiries import Topic
from server.records.models import Appointment

__all__ = [
    "AppointmentIn",
    "AppointmentOut",
    "Appointments",
    "DayOut",
    "ServiceHours",
    "SlotOut",
    "count_appointments",
]

Status = Literal["booked", "held", "missed", "cancelled"]
# How far ahead a caller can be offered a slot, and how many are offered at once.
AHEAD_DAYS = 21
OFFERED = 6


class AppointmentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    starts_at: dt.datetime
    topic: Topic
    status: Status = "booked"
    enquiry_id: uuid.UUID | None = None


class AppointmentOut(AppointmentIn, kw_only=True):
    id: uuid.UUID
    team_id: uuid.UUID
    ends_at: dt.datetime
    # The booking number the caller is told: four digits from the appointment's id.
    number: str


class SlotOut(msgspec.Struct, kw_only=True, frozen=True):
    starts_at: dt.datetime
    ends_at: dt.datetime
    appointment: AppointmentOut | None = None


class DayOut(msgspec.Struct, kw_only=True, frozen=True):
    """``GET /api/appointments?day=``: the team's slots of one day; none when the office is closed."""

    day: dt.date
    open: bool
    slots: list[SlotOut]


@dataclass(frozen=True, slots=True)
class ServiceHours:
    """Office hours on working days, and one appointment's length."""

    opens: dt.time
    closes: dt.time
    minutes: int

    @classmethod
    def parse(cls, text: str, minutes: int) -> ServiceHours:
        """``"09:00-17:00"`` and a length in minutes, checked."""
        try:
            opens, closes = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise ValueError(f"service hours must read like 09:00-17:00, not {text!r}") from None
        if not opens < closes:
            raise ValueError("the service hours must close after they open")
        if not 10 <= minutes <= 240:
            raise ValueError("an appointment lasts between 10 and 240 minutes")
        span = dt.datetime.combine(dt.date.min, closes) - dt.datetime.combine(dt.date.min, opens)
        if span < dt.timedelta(minutes=minutes):
            raise ValueError("the service hours hold no appointment of that length")
        return cls(opens, closes, minutes)

    def starts(self, day: dt.date, zone: ZoneInfo) -> list[dt.datetime]:
        """The starts of the slots of ``day`` that end within the hours, as instants."""
        found, at = [], dt.datetime.combine(day, self.opens, tzinfo=zone)
        close = dt.datetime.combine(day, self.closes, tzinfo=zone)
        while at + dt.timedelta(minutes=self.minutes) <= close:
            found.append(at)
            at += dt.timedelta(minutes=self.minutes)
        return found


def number_of(appointment_id: uuid.UUID) -> str:
    """The booking number: four digits from the id, the same on every screen and in every answer."""
    return f"{int(hashlib.sha256(appointment_id.bytes).hexdigest()[:8], 16) % 10_000:04d}"


@dataclass(frozen=True, slots=True)
class Appointments:
    """Booking appointments and reading a day's slots, for handlers through dependency injection."""

    sessions: async_sessionmaker[AsyncSession]
    hours: ServiceHours
    time_zone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    async def day(self, principal: Principal, day: dt.date) -> DayOut:
        """The team's slots of ``day``, each with its appointment if one holds it."""
        team = _team_of(principal)
        async with self.sessions() as db:
            calendar = Calendar(await region_of(db, principal.organisation_id))
            if not calendar.is_working_day(day):
                return DayOut(day=day, open=False, slots=[])
            starts = self.hours.starts(day, self.zone)
            rows = (
                await db.scalars(
                    select(Appointment).where(
                        Appointment.team_id == team,
                        Appointment.slot.is_not(None),
                        Appointment.starts_at >= starts[0],
                        Appointment.starts_at <= starts[-1],
                    )
                )
            ).all()
        held = {_instant(row.starts_at): _out(row) for row in rows}
        return DayOut(day=day, open=True, slots=[self._slot(at, held.get(at)) for at in starts])

    async def free(self, principal: Principal, now: dt.datetime | None = None) -> list[SlotOut]:
        """The next free slots from now (at most :data:`OFFERED`, within :data:`AHEAD_DAYS`): what a caller is
        offered. One read of the team's bookings for the whole span."""
        team = _team_of(principal)
        now = now or utcnow()
        today = now.astimezone(self.zone).date()
        async with self.sessions() as db:
            calendar = Calendar(await region_of(db, principal.organisation_id))
            days = [d for i in range(AHEAD_DAYS) if calendar.is_working_day(d := today + dt.timedelta(days=i))]
            starts = [at for d in days for at in self.hours.starts(d, self.zone) if at > now]
            if not starts:
                return []
            taken = {
                _instant(at)
                for at in await db.scalars(
                    select(Appointment.slot).where(
                        Appointment.team_id == team, Appointment.slot >= starts[0], Appointment.slot <= starts[-1]
                    )
                )
                if at is not None
            }
        return [self._slot(at, None) for at in starts if at not in taken][:OFFERED]

    async def book(
        self, principal: Principal, appointment_id: uuid.UUID, data: AppointmentIn
    ) -> tuple[AppointmentOut, bool]:
        """Book, move, or record the outcome of an appointment under the id the device chose: ``True`` when new.
        A slot outside the office hours, on a day off, in the past (for a new booking) or already taken is
        refused."""
        team = _team_of(principal)
        if data.starts_at.tzinfo is None:
            raise ValidationFailed("A slot's start needs its UTC offset.", field="starts_at")
        starts_at = data.starts_at.astimezone(self.zone)
        async with self.sessions() as db:
            await begin_write(db)
            row = await db.get(Appointment, appointment_id)
            if row is not None and row.team_id != team:
                raise Conflict("Another appointment was booked under this id.")
            created = row is None
            moving = row is None or _instant(row.starts_at) != starts_at
            if moving and data.status != "cancelled":
                await self._check_slot(db, principal, starts_at, new=created)
            if row is None:
                row = Appointment(id=appointment_id, team_id=team, booked_by=principal.user_id)
                db.add(row)
            elif row.enquiry_id != data.enquiry_id and data.enquiry_id is not None:
                raise Conflict("This appointment came from another enquiry.")
            row.starts_at, row.minutes, row.topic, row.status = starts_at, self.hours.minutes, data.topic, data.status
            row.enquiry_id = row.enquiry_id or data.enquiry_id
            row.slot = None if data.status == "cancelled" else starts_at
            row.updated_at = utcnow()
            try:
                await db.commit()
            except IntegrityError:
                raise Conflict("This slot was just booked by a colleague; choose another.", field="starts_at") from None
            return _out(row), created

    async def _check_slot(self, db: AsyncSession, principal: Principal, at: dt.datetime, *, new: bool) -> None:
        calendar = Calendar(await region_of(db, principal.organisation_id))
        if not calendar.is_working_day(at.date()):
            raise ValidationFailed("The service centre is closed on that day.", field="starts_at")
        if at not in self.hours.starts(at.date(), self.zone):
            raise ValidationFailed("That is not the start of a slot in the office hours.", field="starts_at")
        if new and at <= utcnow():
            raise ValidationFailed("That slot has passed.", field="starts_at")

    def _slot(self, at: dt.datetime, appointment: AppointmentOut | None) -> SlotOut:
        return SlotOut(starts_at=at, ends_at=at + dt.timedelta(minutes=self.hours.minutes), appointment=appointment)


def _team_of(principal: Principal) -> uuid.UUID:
    if principal.role not in (Role.WORKER, Role.SUPERVISOR) or principal.team_id is None:
        raise Forbidden("Appointments are booked by a team's members.")
    return principal.team_id


def _instant(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _out(row: Appointment) -> AppointmentOut:
    starts_at = _instant(row.starts_at)
    return AppointmentOut(
        id=row.id,
        team_id=row.team_id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=row.minutes),
        topic=row.topic,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        enquiry_id=row.enquiry_id,
        number=number_of(row.id),
    )


async def count_appointments(
    db: AsyncSession, team_ids: list[uuid.UUID], since: dt.datetime, until: dt.datetime
) -> dict[str, int]:
    """The appointments of ``team_ids`` that started in ``since``..``until``, by status."""
    rows = await db.execute(
        select(Appointment.status, func.count())
        .where(Appointment.team_id.in_(team_ids), Appointment.starts_at >= since, Appointment.starts_at < until)
        .group_by(Appointment.status)
    )
    return {str(status): int(n) for status, n in rows.all()}
