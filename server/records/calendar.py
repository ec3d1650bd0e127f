"""Working days for legal deadlines: the organisation's region and its public holidays.

A period that ends on a Saturday, a Sunday or a public holiday at the place of performance ends on the next working
day (§ 193 BGB, § 222 Abs. 2 ZPO; in Austria § 903 ABGB and § 126 ZPO-AT alike). Which days are holidays depends on
the Land (Bavaria keeps Epiphany and Corpus Christi, Berlin International Women's Day), so the organisation records
its country and Land. The holidays come from the maintained ``holidays`` package; the tablet receives the same list
(``GET /api/calendar``) so that its offline results equal the server's.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import holidays
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Organisation

__all__ = ["COUNTRIES", "Calendar", "CalendarOut", "Region", "region_of"]

COUNTRIES = ("DE", "AT")
# The years the tablet is given: enough for every deadline that can be open (a year's Widerspruch, two years' bar).
YEARS_BACK, YEARS_AHEAD = 2, 2


@dataclass(frozen=True)
class Region:
    """Where the law and the holidays come from: ``country`` ("DE", "AT") and, in Germany, the Land ("BE")."""

    country: str = "DE"
    subdivision: str | None = None

    def __post_init__(self) -> None:
        if self.country not in COUNTRIES:
            raise ValueError(f"country must be one of {', '.join(COUNTRIES)}")
        if (
            self.subdivision is not None
            and self.subdivision not in holidays.country_holidays(self.country).subdivisions
        ):
            raise ValueError(f"{self.subdivision} is not a Land (or region) of {self.country}")


class CalendarOut(msgspec.Struct, kw_only=True, frozen=True):
    """``GET /api/calendar``: the region and its public holidays (weekends are not listed)."""

    country: str
    subdivision: str | None
    first_day: dt.date
    last_day: dt.date
    holidays: list[dt.date]


class Calendar:
    """Public holidays and working days of one region."""

    def __init__(self, region: Region) -> None:
        self.region = region

    @functools.cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.region.country, subdiv=self.region.subdivision, language="de")

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday and not a public holiday of the region."""
        return day.weekday() < 5 and day not in self._holidays

    def is_werktag(self, day: dt.date) -> bool:
        """Monday to Saturday and not a public holiday (a "Werktag", as the energy supply rules count)."""
        return day.weekday() < 6 and day not in self._holidays

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the next one (§ 193 BGB)."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def previous_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the one before (for dates counted back from an event)."""
        while not self.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def listing(self, today: dt.date) -> CalendarOut:
        """The holidays of the years around ``today``, for the tablet."""
        first, last = dt.date(today.year - YEARS_BACK, 1, 1), dt.date(today.year + YEARS_AHEAD, 12, 31)
        days = sorted(
            day
            for year in range(first.year, last.year + 1)
            for day in holidays.country_holidays(self.region.country, subdiv=self.region.subdivision, years=year)
        )
        return CalendarOut(
            country=self.region.country,
            subdivision=self.region.subdivision,
            first_day=first,
            last_day=last,
            holidays=days,
        )


async def region_of(db: AsyncSession) -> Region:
    """The organisation's region (Germany without a Land when it has never been set)."""
    org = (await db.scalars(select(Organisation).order_by(Organisation.created_at).limit(1))).first()
    if org is None:
        return Region()
    return Region(org.country, org.subdivision)
