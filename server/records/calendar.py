"""Working days for legal deadlines: the organisation's region and its public holidays.

A period that ends on a Saturday, a Sunday or a public holiday at the place of performance ends on the next working
day (§ 193 BGB, § 222 Abs. 2 ZPO; in Austria § 903 ABGB and § 126 Abs. 2 öZPO alike, where Good Friday counts as a
day off too although it is no public holiday there since 2019). In Germany the holidays depend on the Land (Bavaria
keeps Epiphany and Corpus Christi, Berlin International Women's Day), so the organisation records its country and
Land; Austria's public holidays are federal (Feiertagsruhegesetz), the same in every Bundesland. The holidays come
from the maintained ``holidays`` package; the tablet receives the same list
(``GET /api/calendar``) so that its offline results equal the server's.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass

import holidays
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Organisation

__all__ = ["COUNTRIES", "Calendar", "CalendarOut", "Region", "good_friday", "region_of"]

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
    # The caller's organisation's name, the sender of its letters (a server may hold more than one organisation).
    organisation: str | None = None


class Calendar:
    """Public holidays and working days of one region."""

    def __init__(self, region: Region) -> None:
        self.region = region

    @functools.cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.region.country, subdiv=self.region.subdivision, language="de")

    def _day_off(self, day: dt.date) -> bool:
        """A public holiday of the region, or in Austria Good Friday (§ 126 Abs. 2 öZPO names it beside them)."""
        return day in self._holidays or (self.region.country == "AT" and day == good_friday(day.year))

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday and not a day off of the region."""
        return day.weekday() < 5 and not self._day_off(day)

    def is_werktag(self, day: dt.date) -> bool:
        """Monday to Saturday and not a public holiday (a "Werktag", as the energy supply rules count)."""
        return day.weekday() < 6 and not self._day_off(day)

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
        """The days off of the years around ``today`` (holidays, and Good Friday in Austria), for the tablet."""
        first, last = dt.date(today.year - YEARS_BACK, 1, 1), dt.date(today.year + YEARS_AHEAD, 12, 31)
        days = sorted(
            {
                day
                for year in range(first.year, last.year + 1)
                for day in holidays.country_holidays(self.region.country, subdiv=self.region.subdivision, years=year)
            }
            | {good_friday(year) for year in range(first.year, last.year + 1) if self.region.country == "AT"}
        )
        return CalendarOut(
            country=self.region.country,
            subdivision=self.region.subdivision,
            first_day=first,
            last_day=last,
            holidays=days,
        )


def good_friday(year: int) -> dt.date:
    """Karfreitag: two days before Easter Sunday (the Gregorian computus of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * l_) // 433
    month = (h + l_ - 7 * m + 90) // 25
    day = (h + l_ - 7 * m + 33 * month + 19) % 32
    return dt.date(year, month, day) - dt.timedelta(days=2)


async def region_of(db: AsyncSession, organisation: uuid.UUID | None) -> Region:
    """The organisation's region (Germany without a Land when it has never been set or is not known)."""
    org = await db.get(Organisation, organisation) if organisation is not None else None
    if org is None:
        return Region()
    return Region(org.country, org.subdivision)
