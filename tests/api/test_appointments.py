"""Appointments at the service centre: a caller is offered the next free slots of the team's office hours, the
booking is idempotent under the device's id and refused for a taken slot (also when two workers book it at once),
for a day off, outside the hours and in the past; the outcome is recorded, a cancellation frees the slot, and a held
appointment counts in the report as a personal consultation. Nothing in an appointment names a person."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar

from server.auth.models import Role
from server.auth.state import AuthState
from server.plugin import service_of
from server.records.appointments import ServiceHours
from server.records.calendar import Calendar, Region
from tests.support import clock as pinned
from tests.support.accounts import Org, add_user, login
from tests.support.app import client_from
from tests.support.syncing import new_id

pytestmark = pytest.mark.usefixtures("org")

BERLIN = ZoneInfo("Europe/Berlin")


def next_working_day(after: int = 1) -> dt.date:
    """A working day at least ``after`` days ahead (Germany without a Land: the org fixture's region)."""
    calendar = Calendar(Region())
    return calendar.next_working_day(pinned.today() + dt.timedelta(days=after))


def at(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN).isoformat()


async def test_a_caller_is_booked_into_a_free_slot_once_and_the_slot_is_then_taken(
    app: Litestar, client: httpx.AsyncClient, org: Org
) -> None:
    await login(client, "worker1")
    free = (await client.get("/api/appointments/free")).json()
    assert len(free) == 6
    calendar = Calendar(Region())
    for slot in free:
        start = dt.datetime.fromisoformat(slot["starts_at"]).astimezone(BERLIN)
        assert start > pinned.now()
        assert calendar.is_working_day(start.date())
        assert dt.time(9) <= start.time() <= dt.time(16, 30)
        assert start.minute in (0, 30)
        assert slot["appointment"] is None

    enquiry = new_id()
    call = {"on": pinned.day(0), "channel": "phone", "topic": "rent_arrears", "referred_to": "none"}
    assert (await client.put(f"/api/enquiries/{enquiry}", json=call)).status_code == 201
    first, booking = new_id(), {"starts_at": free[0]["starts_at"], "topic": "rent_arrears", "enquiry_id": enquiry}
    made = await client.put(f"/api/appointments/{first}", json=booking)
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    assert len(number) == 4
    assert number.isdigit()
    again = await client.put(f"/api/appointments/{first}", json=booking)  # a lost answer, sent again
    assert again.status_code == 200
    assert again.json()["number"] == number
    taken = await client.put(f"/api/appointments/{new_id()}", json=booking)
    assert taken.status_code == 409
    assert taken.json()["field"] == "starts_at"

    # The slot is now taken, for the whole team; another team books its own.
    assert free[0]["starts_at"] not in [s["starts_at"] for s in (await client.get("/api/appointments/free")).json()]
    day = dt.datetime.fromisoformat(free[0]["starts_at"]).astimezone(BERLIN).date()
    await login(client, "worker2")
    listing = (await client.get("/api/appointments", params={"day": day.isoformat()})).json()
    assert listing["open"] is True
    held = [s["appointment"] for s in listing["slots"] if s["appointment"]]
    assert [(a["id"], a["number"]) for a in held] == [(first, number)]
    await login(client, "worker3")
    other = await client.put(f"/api/appointments/{new_id()}", json={**booking, "enquiry_id": None})
    assert other.status_code == 201
    listing = (await client.get("/api/appointments", params={"day": day.isoformat()})).json()
    assert [s["appointment"]["id"] for s in listing["slots"] if s["appointment"]] == [other.json()["id"]]

    # A cancellation frees the slot; the outcome of the next booking is recorded.
    await login(client, "worker1")
    cancelled = await client.put(f"/api/appointments/{first}", json={**booking, "status": "cancelled"})
    assert cancelled.status_code == 200
    rebooked = new_id()
    assert (await client.put(f"/api/appointments/{rebooked}", json={**booking, "enquiry_id": None})).status_code == 201
    outcome = await client.put(f"/api/appointments/{rebooked}", json={**booking, "enquiry_id": None, "status": "held"})
    assert outcome.json()["status"] == "held"

    # No name has anywhere to go.
    named = await client.put(f"/api/appointments/{new_id()}", json={**booking, "name": "Erika Musterfrau"})
    assert named.status_code == 400


async def test_a_slot_outside_the_office_hours_or_on_a_day_off_is_refused(client: httpx.AsyncClient) -> None:
    await login(client, "worker1")
    day = next_working_day(2)
    sunday = day + dt.timedelta(days=(6 - day.weekday()) or 7)
    christmas = dt.date(day.year, 12, 25)
    for starts_at in (
        at(sunday, 10),
        at(christmas, 10),  # a public holiday
        at(day, 8, 30),  # before opening
        at(day, 17),  # would end after closing
        at(day, 9, 10),  # not the start of a slot
        at(pinned.today() - dt.timedelta(days=3), 10),  # passed
        f"{day.isoformat()}T10:00:00",  # no offset: which 10 o'clock?
    ):
        refused = await client.put(f"/api/appointments/{new_id()}", json={"starts_at": starts_at, "topic": "other"})
        assert refused.status_code == 400, starts_at
        assert refused.json()["field"] == "starts_at"
    closed = (await client.get("/api/appointments", params={"day": sunday.isoformat()})).json()
    assert closed == {"day": sunday.isoformat(), "open": False, "slots": []}


@pytest.mark.usefixtures("client")  # the app's lifespan runs (and ends) with it
async def test_two_workers_booking_the_last_slot_at_once_get_one_booking(app: Litestar) -> None:
    day = next_working_day(3)
    booking = {"starts_at": at(day, 11), "topic": "benefits"}
    async with client_from(app) as one, client_from(app) as two:
        await login(one, "worker1")
        await login(two, "worker2")
        answers = await asyncio.gather(
            one.put(f"/api/appointments/{new_id()}", json=booking),
            two.put(f"/api/appointments/{new_id()}", json=booking),
        )
    assert sorted(a.status_code for a in answers) == [201, 409]


async def test_a_held_appointment_counts_as_a_personal_consultation(
    app: Litestar, client: httpx.AsyncClient, org: Org, password_hash: str
) -> None:
    day = next_working_day(1)
    await login(client, "worker1")
    for hour, status in ((9, "held"), (10, "held"), (11, "missed"), (12, "booked")):
        booking = {"starts_at": at(day, hour), "topic": "rent_arrears"}
        appointment = new_id()
        assert (await client.put(f"/api/appointments/{appointment}", json=booking)).status_code == 201
        if status != "booked":
            changed = await client.put(f"/api/appointments/{appointment}", json={**booking, "status": status})
            assert changed.status_code == 200
    period = {"start": day.isoformat(), "end": day.isoformat()}
    await login(client, "supervisor")
    report = (await client.get("/api/reports", params=period)).json()
    assert report["funder"]["enquiries"]["appointments"] == {"held": 2, "missed": 1, "booked": 1}
    lines = {f["key"]: f["text"] for s in report["sections"] for f in s["figures"]}
    assert lines["appointments.held"] == "2"
    assert lines["appointments.missed"] == "1"
    await login(client, "supervisor2")  # Team Süd counts none of Team Nord's
    other = (await client.get("/api/reports", params=period)).json()
    assert other["funder"]["enquiries"]["appointments"] == {}

    # The management is told the figures, not the bookings.
    database_url = service_of(app, AuthState).settings.resolved_database_url
    await add_user(database_url, "leitung", Role.MANAGER, org.team_id, password_hash)
    await login(client, "leitung")
    assert (await client.get("/api/appointments/free")).status_code == 403
    organisation = (await client.get("/api/reports/organisation", params=period)).json()
    total = {f["key"]: f["text"] for s in organisation["total"]["report"]["sections"] for f in s["figures"]}
    assert total["appointments.held"].startswith("2")


@pytest.mark.parametrize(
    ("hours", "minutes"), [("9-17", 30), ("17:00-09:00", 30), ("09:00-09:20", 30), ("09:00-17:00", 5)]
)
def test_office_hours_that_hold_no_appointment_stop_the_start(hours: str, minutes: int) -> None:
    with pytest.raises(ValueError, match=r"service hours|appointment"):
        ServiceHours.parse(hours, minutes)
    assert len(ServiceHours.parse("09:00-17:00", 30).starts(dt.date(2026, 12, 9), BERLIN)) == 16
