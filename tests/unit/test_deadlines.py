"""Every deadline rule of docs/legal.md, across month ends, leap years, weekends and the holidays of two Länder and
Austria, the Schonfrist's two-year bar, preparations that are never born overdue; the same table through the
tablet's code (pwa/static/js/deadlines.js)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from server.records.calendar import Calendar, Region
from server.records.deadlines import add_period, compute, derived_id, phase_of, rules
from tests.support.node import run_js

EVENT = "00000000-0000-4000-8000-000000000001"
NOTICE = "00000000-0000-4000-8000-000000000002"
BERLIN, BAVARIA, AUSTRIA = ("DE", "BE"), ("DE", "BY"), ("AT", None)
VIENNA, TYROL = ("AT", "9"), ("AT", "7")


def lawsuit(served_on: str) -> dict[str, Any]:
    return {"type": "eviction_lawsuit", "served_on": served_on}


def notice(kind: str, served_on: str = "2026-01-05") -> dict[str, Any]:
    return {"type": "notice_to_quit", "notice_kind": kind, "served_on": served_on}


# name, region, case fields, events, benefit applications, today, expected [rule, due_on, unavailable] or
# [rule, due_on, unavailable, provisional, warning] (the short form: nothing provisional, no warning)
CASES: list[
    tuple[str, tuple[str, str | None], dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], str, list[list[Any]]]
] = [
    (
        "Schonfrist and Verteidigungsanzeige from the service of the lawsuit",
        BERLIN,
        {},
        [notice("both"), lawsuit("2026-01-31")],
        [],
        "2026-01-31",
        [["de.verteidigungsanzeige", "2026-02-16", None], ["de.schonfrist", "2026-03-31", None, [], "ordinary_stays"]],
    ),
    (
        "two months from 31 December end on 28 February, a Saturday: Monday",
        BERLIN,
        {},
        [notice("extraordinary"), lawsuit("2025-12-31")],
        [],
        "2026-01-01",
        [["de.verteidigungsanzeige", "2026-01-14", None], ["de.schonfrist", "2026-03-02", None]],
    ),
    (
        "a leap year: 31 December 2027 + 2 months is 29 February 2028",
        BERLIN,
        {},
        [notice("extraordinary"), lawsuit("2027-12-31")],
        [],
        "2028-01-01",
        [["de.verteidigungsanzeige", "2028-01-14", None], ["de.schonfrist", "2028-02-29", None]],
    ),
    (
        "no Schonfrist after an ordinary notice",
        BERLIN,
        {},
        [notice("ordinary"), lawsuit("2026-03-02")],
        [],
        "2026-03-02",
        [["de.verteidigungsanzeige", "2026-03-16", None]],
    ),
    (
        "the Schonfrist is barred when used within two years before the notice",
        BERLIN,
        {"schonfrist_used_on": "2025-03-01"},
        [notice("both", "2026-11-01"), lawsuit("2026-11-16")],
        [],
        "2026-11-16",
        [
            ["de.verteidigungsanzeige", "2026-11-30", None],
            ["de.schonfrist", "2027-01-18", "schonfrist_used:2025-03-01", [], "ordinary_stays"],
        ],
    ),
    (
        "but not when used more than two years before",
        BERLIN,
        {"schonfrist_used_on": "2024-10-01"},
        [notice("both", "2026-11-01"), lawsuit("2026-11-16")],
        [],
        "2026-11-16",
        [
            ["de.verteidigungsanzeige", "2026-11-30", None],
            ["de.schonfrist", "2027-01-18", None, [], "ordinary_stays"],
        ],
    ),
    (
        "a lawsuit with no notice recorded: the Schonfrist is shown, provisional (check the kind of notice)",
        BERLIN,
        {},
        [lawsuit("2026-12-09")],
        [],
        "2026-12-09",
        [
            ["de.verteidigungsanzeige", "2026-12-23", None],
            ["de.schonfrist", "2027-02-09", None, ["notice_kind"], None],
        ],
    ),
    (
        "a notice of unknown kind: provisional; two months from 31 March end on Sunday 31 May: Monday",
        BERLIN,
        {},
        [notice("unknown", "2026-03-02"), lawsuit("2026-03-31")],
        [],
        "2026-03-31",
        [
            ["de.verteidigungsanzeige", "2026-04-14", None],
            ["de.schonfrist", "2026-06-01", None, ["notice_kind"], None],
        ],
    ),
    (
        "an ordinary notice beside one of unknown kind does not suppress it",
        BERLIN,
        {},
        [notice("ordinary", "2026-03-02"), notice("unknown", "2026-03-09"), lawsuit("2026-03-31")],
        [],
        "2026-03-31",
        [
            ["de.verteidigungsanzeige", "2026-04-14", None],
            ["de.schonfrist", "2026-06-01", None, ["notice_kind"], None],
        ],
    ),
    (
        "the court's notice to the Jobcenter alone (section 22 (9) SGB II): provisional on both counts",
        BERLIN,
        {},
        [{"type": "court_notice_to_agency", "served_on": "2026-12-09"}],
        [],
        "2026-12-09",
        [["de.schonfrist", "2027-02-09", None, ["notice_kind", "lawsuit_served"], None]],
    ),
    (
        "once the lawsuit's service is recorded, it counts and the court's notice no longer does",
        BERLIN,
        {},
        [
            notice("extraordinary", "2026-11-02"),
            {"type": "court_notice_to_agency", "served_on": "2026-11-20"},
            lawsuit("2026-11-30"),
        ],
        [],
        "2026-11-30",
        [["de.verteidigungsanzeige", "2026-12-14", None], ["de.schonfrist", "2027-02-01", None]],
    ),
    (
        "a lawsuit known only by its date: provisional until its service is recorded",
        BERLIN,
        {},
        [notice("extraordinary", "2026-11-02"), {"type": "eviction_lawsuit", "dated_on": "2026-11-16"}],
        [],
        "2026-11-16",
        [["de.schonfrist", "2027-01-18", None, ["lawsuit_served"], None]],
    ),
    (
        "the two-year bar compares Zugang with Zugang: an earlier notice received 20 Nov 2024 bars one of 10 Nov 2026",
        BERLIN,
        {"cured_notice_served_on": "2024-11-20"},
        [notice("extraordinary", "2026-11-10"), lawsuit("2026-11-25")],
        [],
        "2026-11-25",
        [
            ["de.verteidigungsanzeige", "2026-12-09", None],
            ["de.schonfrist", "2027-01-25", "schonfrist_used:2024-11-20"],
        ],
    ),
    (
        "one received 5 Nov 2024 does not, though it may have been cured within the two years",
        BERLIN,
        {"cured_notice_served_on": "2024-11-05"},
        [notice("extraordinary", "2026-11-10"), lawsuit("2026-11-25")],
        [],
        "2026-11-25",
        [["de.verteidigungsanzeige", "2026-12-09", None], ["de.schonfrist", "2027-01-25", None]],
    ),
    (
        "a Sperrandrohung received Saturday 5 December: no disconnection before Saturday 2 January (not moved)",
        BERLIN,
        {},
        [{"type": "disconnection_threat", "served_on": "2026-12-05"}],
        [],
        "2026-12-05",
        [["de.sperre_fruehestens", "2027-01-02", None]],
    ),
    (
        "a threat known only by its date counts from it, provisional",
        BERLIN,
        {},
        [{"type": "disconnection_threat", "dated_on": "2026-12-02"}],
        [],
        "2026-12-05",
        [["de.sperre_fruehestens", "2026-12-30", None, ["letter_served"], None]],
    ),
    (
        "a Sperrtermin on Friday 18 December announced on Monday the 7th: nine Werktage between, in time",
        BERLIN,
        {},
        [{"type": "disconnection_notice", "served_on": "2026-12-07", "scheduled_at": "2026-12-18T08:00:00+01:00"}],
        [],
        "2026-12-07",
        [["de.sperre_termin", "2026-12-17", None]],
    ),
    (
        "announced on Wednesday the 9th: seven Werktage (Saturday counts), too late",
        BERLIN,
        {},
        [{"type": "disconnection_notice", "served_on": "2026-12-09", "scheduled_at": "2026-12-18T08:00:00+01:00"}],
        [],
        "2026-12-09",
        [["de.sperre_termin", "2026-12-17", None, [], "announced_late"]],
    ),
    (
        "across Christmas: announced 16 December for Tuesday 29 December, eight Werktage, in time; act by the 28th",
        BERLIN,
        {},
        [{"type": "disconnection_notice", "served_on": "2026-12-16", "scheduled_at": "2026-12-29T09:00:00+01:00"}],
        [],
        "2026-12-16",
        [["de.sperre_termin", "2026-12-28", None]],
    ),
    (
        "announced a day later: the holidays do not count, seven Werktage, too late",
        BERLIN,
        {},
        [{"type": "disconnection_notice", "served_on": "2026-12-17", "scheduled_at": "2026-12-29T09:00:00+01:00"}],
        [],
        "2026-12-17",
        [["de.sperre_termin", "2026-12-28", None, [], "announced_late"]],
    ),
    (
        "Corpus Christi 2026 (4 June) is a holiday in Bavaria",
        BAVARIA,
        {},
        [lawsuit("2026-05-21")],
        [],
        "2026-05-21",
        [["de.verteidigungsanzeige", "2026-06-05", None], ["de.schonfrist", "2026-07-21", None, ["notice_kind"], None]],
    ),
    (
        "and a working day in Berlin",
        BERLIN,
        {},
        [lawsuit("2026-05-21")],
        [],
        "2026-05-21",
        [["de.verteidigungsanzeige", "2026-06-04", None], ["de.schonfrist", "2026-07-21", None, ["notice_kind"], None]],
    ),
    (
        "International Women's Day 2027 (a Monday) is a holiday in Berlin",
        BERLIN,
        {},
        [{"type": "default_judgment", "served_on": "2027-02-22"}],
        [],
        "2027-02-22",
        [["de.einspruch_vu", "2027-03-09", None]],
    ),
    (
        "and a working day in Bavaria",
        BAVARIA,
        {},
        [{"type": "default_judgment", "served_on": "2027-02-22"}],
        [],
        "2027-02-22",
        [["de.einspruch_vu", "2027-03-08", None]],
    ),
    (
        "Berufung: a month from 31 January is 28 February, a Saturday",
        BERLIN,
        {},
        [{"type": "judgment", "served_on": "2026-01-31"}],
        [],
        "2026-02-01",
        [["de.berufung", "2026-03-02", None]],
    ),
    (
        "Vollstreckungsschutz two weeks before the eviction, earlier when that is a holiday; preparation a week before",
        BAVARIA,
        {},
        [{"type": "eviction_date", "scheduled_at": "2026-06-18T09:00:00+02:00"}],
        [],
        "2026-05-01",
        [["de.vollstreckungsschutz_765a", "2026-06-03", None], ["prep.eviction_date", "2026-06-11", None]],
    ),
    (
        "Räumungsfrist: the extension is asked for two weeks before it ends",
        BERLIN,
        {},
        [{"type": "eviction_period", "dated_on": "2026-09-01", "until_on": "2026-12-31"}],
        [],
        "2026-09-02",
        [["de.raeumungsfrist_verlaengerung", "2026-12-16", None]],
    ),
    (
        "two weeks before the eviction, the earlier reading: the day before the same weekday (Berlin)",
        BERLIN,
        {},
        [{"type": "eviction_date", "scheduled_at": "2027-01-21T09:00:00+01:00"}],
        [],
        "2026-12-01",
        [["de.vollstreckungsschutz_765a", "2027-01-06", None], ["prep.eviction_date", "2027-01-14", None]],
    ),
    (
        "and in Bavaria, where 6 January is Epiphany, the working day before",
        BAVARIA,
        {},
        [{"type": "eviction_date", "scheduled_at": "2027-01-21T09:00:00+01:00"}],
        [],
        "2026-12-01",
        [["de.vollstreckungsschutz_765a", "2027-01-05", None], ["prep.eviction_date", "2027-01-14", None]],
    ),
    (
        "a Räumungsfrist granted in the judgment (to Sunday 31 January 2027): the extension by Friday 15 January",
        BERLIN,
        {},
        [{"type": "judgment", "served_on": "2026-10-05", "until_on": "2027-01-31"}],
        [],
        "2026-10-05",
        [["de.berufung", "2026-11-05", None], ["de.raeumungsfrist_verlaengerung", "2027-01-15", None]],
    ),
    (
        "a Räumungsvergleich to vacate by 31 March 2027: a Räumungsfrist under section 794a ZPO by 16 March",
        BERLIN,
        {},
        [{"type": "settlement", "dated_on": "2026-11-20", "until_on": "2027-03-31"}],
        [],
        "2026-11-20",
        [["de.raeumungsfrist_794a", "2027-03-16", None]],
    ),
    (
        "the court's Klageerwiderungsfrist on the lawsuit becomes a deadline of its own",
        BERLIN,
        {},
        [
            notice("extraordinary", "2026-11-02"),
            {"type": "eviction_lawsuit", "served_on": "2026-11-30", "until_on": "2026-12-28"},
        ],
        [],
        "2026-11-30",
        [
            ["de.verteidigungsanzeige", "2026-12-14", None],
            ["de.klageerwiderung", "2026-12-28", None],
            ["de.schonfrist", "2027-02-01", None],
        ],
    ),
    (
        "an Einspruch date the court names earlier than the statute's two weeks: the earlier one",
        BERLIN,
        {},
        [{"type": "default_judgment", "served_on": "2026-12-04", "until_on": "2026-12-16"}],
        [],
        "2026-12-04",
        [["de.einspruch_vu", "2026-12-16", None]],
    ),
    (
        "and one it names later: the statute's",
        BERLIN,
        {},
        [{"type": "default_judgment", "served_on": "2026-12-04", "until_on": "2026-12-22"}],
        [],
        "2026-12-04",
        [["de.einspruch_vu", "2026-12-18", None]],
    ),
    (
        "a court date four days away: its preparation is due today, not overdue",
        BERLIN,
        {},
        [{"type": "court_date", "scheduled_at": "2026-12-04T10:00:00+01:00"}],
        [],
        "2026-11-30",
        [["prep.court_date", "2026-11-30", None]],
    ),
    (
        "Austria: pay before the hearing, the working day before; 8 December is a holiday",
        AUSTRIA,
        {},
        [{"type": "court_date", "scheduled_at": "2026-12-09T10:00:00+01:00"}],
        [],
        "2026-11-01",
        [["prep.court_date", "2026-12-02", None], ["at.zahlung_33_mrg", "2026-12-07", None]],
    ),
    (
        "Austria: no German rules; the lawsuit asks for payment before the hearing, whose day is not recorded yet",
        AUSTRIA,
        {},
        [notice("both"), lawsuit("2026-03-02")],
        [],
        "2026-03-05",
        [["at.zahlung_33_mrg", "2026-03-05", None, ["court_date"], None]],
    ),
    (
        "Austria: once the hearing is recorded, § 33 MRG counts from it; Easter Monday is no obstacle a week later",
        VIENNA,
        {},
        [lawsuit("2026-03-02"), {"type": "court_date", "scheduled_at": "2026-04-14T09:00:00+02:00"}],
        [],
        "2026-03-05",
        [["prep.court_date", "2026-04-07", None], ["at.zahlung_33_mrg", "2026-04-13", None]],
    ),
    (
        "Austria: an appeal served on 17 June 2023 stands still from 15 July to 17 August and ends on 18 August",
        VIENNA,
        {},
        [{"type": "judgment", "served_on": "2023-06-17"}],
        [],
        "2023-06-17",
        [["at.berufung", "2023-08-18", None]],
    ),
    (
        "Austria: served on 18 June 2023 the 28th day is Saturday 19 August: Monday 21 August",
        TYROL,
        {},
        [{"type": "judgment", "served_on": "2023-06-18"}],
        [],
        "2023-06-18",
        [["at.berufung", "2023-08-21", None]],
    ),
    (
        "Austria: an appeal served within the summer pause starts after it: 14 September",
        VIENNA,
        {},
        [{"type": "judgment", "served_on": "2023-07-20"}],
        [],
        "2023-07-20",
        [["at.berufung", "2023-09-14", None]],
    ),
    (
        "Austria: a default judgment on 10 December: Widerspruch on 24 December (no pause), Berufung after the "
        "Christmas pause",
        TYROL,
        {},
        [{"type": "default_judgment", "served_on": "2026-12-10"}],
        [],
        "2026-12-10",
        [["at.widerspruch_vu", "2026-12-24", None], ["at.berufung", "2027-01-21", None]],
    ),
    (
        "Austria: Einwendungen end on Good Friday 2027, then Saturday, Sunday, Easter Monday: Tuesday",
        VIENNA,
        {},
        [{"type": "termination_notice", "served_on": "2027-02-26"}],
        [],
        "2027-02-26",
        [["at.einwendungen", "2027-03-30", None]],
    ),
    (
        "Austria: four weeks from 31 January end on Saturday 28 February: Monday 2 March",
        AUSTRIA,
        {},
        [{"type": "termination_notice", "served_on": "2026-01-31"}],
        [],
        "2026-01-31",
        [["at.einwendungen", "2026-03-02", None]],
    ),
    (
        "Austria: a Rekurs against the enforcement order runs through the summer (§ 78 EO): 3 August",
        VIENNA,
        {},
        [{"type": "eviction_order", "served_on": "2026-07-20"}],
        [],
        "2026-07-20",
        [["at.rekurs_exekution", "2026-08-03", None]],
    ),
    (
        "Austria: a Delogierung on 7 January 2027: apply for the stay by 5 January (6 January is a holiday)",
        VIENNA,
        {},
        [{"type": "eviction_date", "scheduled_at": "2027-01-07T08:00:00+01:00"}],
        [],
        "2026-12-20",
        [["prep.eviction_date", "2026-12-31", None], ["at.raeumungsaufschub", "2027-01-05", None]],
    ),
    (
        "Widerspruch: posted on a Tuesday, known on the fourth day (a Saturday, not moved), a month, then Monday",
        BERLIN,
        {},
        [],
        [{"kind": "wohngeld", "decision": "refused", "decided_on": "2026-01-27"}],
        "2026-01-28",
        [["de.widerspruch_bescheid", "2026-03-02", None]],
    ),
    (
        "Widerspruch from the day it was received, and a year without instructions on the remedy",
        BERLIN,
        {},
        [],
        [
            {"kind": "wohngeld", "decision": "partly_granted", "decided_on": "2026-03-02", "notified_on": "2026-03-10"},
            {
                "kind": "debt_takeover_loan",
                "decision": "refused",
                "notified_on": "2026-03-10",
                "instructions_missing": True,
            },
            {"kind": "wohngeld", "decision": "granted", "notified_on": "2026-03-10"},
        ],
        "2026-03-10",
        [["de.widerspruch_bescheid", "2026-04-10", None], ["de.widerspruch_bescheid", "2027-03-10", None]],
    ),
]


def python_results(
    region: tuple[str, str | None], case: dict[str, Any], events: list[Any], apps: list[Any], today: str
) -> list[list[Any]]:
    calendar = Calendar(Region(*region))
    found = compute(
        region[0],
        calendar,
        case,
        [(uuid.UUID(int=i + 1), fields) for i, fields in enumerate(events)],
        [(uuid.UUID(int=100 + i), fields) for i, fields in enumerate(apps)],
        dt.date.fromisoformat(today),
        lambda text: dt.datetime.fromisoformat(text).date(),
    )
    return [[d.rule, d.due_on.isoformat(), d.unavailable, list(d.provisional), d.warning] for d in found]


def full(rows: list[list[Any]]) -> list[list[Any]]:
    """Expected rows in the long form."""
    return [row if len(row) == 5 else [*row, [], None] for row in rows]


@pytest.mark.parametrize(
    ("name", "region", "case", "events", "apps", "today", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_every_rule_in_python(
    name: str,
    region: tuple[str, str | None],
    case: dict[str, Any],
    events: list[Any],
    apps: list[Any],
    today: str,
    expected: list[list[Any]],
) -> None:
    assert python_results(region, case, events, apps, today) == full(expected)


def test_the_tablet_computes_the_same_deadlines() -> None:

    inputs = []
    for _, region, case, events, apps, today, _ in CASES:
        listing = Calendar(Region(*region)).listing(dt.date.fromisoformat(today))
        inputs.append(
            {
                "table": {"rules": rules()},
                "country": region[0],
                "holidays": [d.isoformat() for d in listing.holidays],
                "case": case,
                "events": [[str(uuid.UUID(int=i + 1)), f] for i, f in enumerate(events)],
                "apps": [[str(uuid.UUID(int=100 + i)), f] for i, f in enumerate(apps)],
                "today": today,
            }
        )
    javascript = run_js(
        "deadlines.js",
        "(c) => m.compute(c.table, c.country, m.daysOff(c.holidays), c.case, c.events, c.apps, c.today)"
        ".map((d) => [d.rule, d.due_on, d.unavailable, d.provisional || [], d.warning || null])",
        inputs,
    )
    assert javascript == [full(expected) for *_, expected in CASES]


def test_periods_back_and_forward_across_the_year_end() -> None:
    berlin = Calendar(Region("DE", "BE"))
    assert add_period(dt.date(2026, 12, 18), {"weeks": 1}, berlin) == dt.date(2026, 12, 28)  # Christmas days off
    assert add_period(dt.date(2027, 1, 8), {"weeks": -2}, berlin) == dt.date(2026, 12, 24)
    assert add_period(dt.date(2027, 1, 4), {"working_days": -1}, berlin) == dt.date(2026, 12, 31)


def test_austrian_days_off_are_federal_and_include_good_friday() -> None:
    """Austria's public holidays are the same in every Bundesland; Good Friday, no holiday there, still ends no
    period (§ 126 Abs. 2 öZPO), and the tablet is given it with the holidays."""
    today = dt.date(2027, 1, 10)
    vienna, tyrol = (Calendar(Region(*region)).listing(today).holidays for region in (VIENNA, TYROL))
    assert vienna == tyrol
    assert dt.date(2027, 3, 26) in vienna  # Karfreitag
    assert dt.date(2027, 12, 8) in vienna
    assert dt.date(2027, 12, 24) not in vienna
    assert not Calendar(Region(*VIENNA)).is_working_day(dt.date(2027, 3, 26))
    assert Calendar(Region("DE", "BE")).is_working_day(dt.date(2027, 12, 8))


def test_the_phase_follows_the_latest_event() -> None:
    def local(text: str) -> dt.date:
        return dt.datetime.fromisoformat(text).date()

    steps = [
        {"type": "reminder", "dated_on": "2026-01-10"},
        {"type": "notice_to_quit", "served_on": "2026-02-01"},
        {"type": "eviction_lawsuit", "served_on": "2026-04-01"},
        {"type": "eviction_date", "scheduled_at": "2026-09-01T09:00:00+02:00"},
    ]
    assert [phase_of(steps[: n + 1], local) for n in range(4)] == ["pre_court", "pre_court", "court", "enforcement"]
    assert phase_of([], local) is None
    javascript = run_js("deadlines.js", "(events) => m.phaseOf(events)", [steps[: n + 1] for n in range(4)])
    assert javascript == ["pre_court", "pre_court", "court", "enforcement"]


def test_a_generated_action_has_the_same_id_on_the_server_and_the_tablet() -> None:
    pairs = [[EVENT, "de.schonfrist"], [NOTICE, "prep.court_date"], ["x", "deadline"]]
    javascript = run_js("deadlines.js", "([source, rule]) => m.derivedId(source, rule)", pairs)
    assert javascript == [str(derived_id(source, rule)) for source, rule in pairs]
    assert len(set(javascript)) == 3


def test_a_wohngeld_objection_follows_the_administrative_courts_and_the_others_the_social_courts() -> None:
    """Wohngeld is decided under the WoGG: its remedy is the Widerspruch of § 70 VwGO (through § 62 SGB X), or a
    Klage where the Land abolished the Widerspruch; the Jobcenter's and Sozialamt's go to the social courts."""
    decided = {"decision": "refused", "decided_on": "2026-01-27"}
    found = compute(
        "DE",
        Calendar(Region("DE", "BE")),
        {},
        [],
        [
            (uuid.UUID(int=1), {"kind": "wohngeld", **decided}),
            (uuid.UUID(int=2), {"kind": "debt_takeover_loan", **decided}),
        ],
        dt.date(2026, 1, 28),
        lambda text: dt.datetime.fromisoformat(text).date(),
    )
    basis = {d.record_id.int: d.basis for d in found}
    assert basis[1].startswith("§ 70 Abs. 1 VwGO")
    assert "§ 74 VwGO" in basis[1]
    assert "SGG" not in basis[1]
    assert basis[2] == "§ 84 Abs. 1 SGG, § 37 Abs. 2 SGB X, § 66 Abs. 2 SGG"
    assert {d.due_on for d in found} == {dt.date(2026, 3, 2)}  # the same month from the fourth day after posting
    javascript = run_js(
        "deadlines.js",
        "(c) => m.compute(c.table, 'DE', m.daysOff([]), {}, [], c.apps, '2026-01-28').map((d) => d.basis)",
        [
            {
                "table": {"rules": rules()},
                "apps": [["a", {"kind": "wohngeld", **decided}], ["b", {"kind": "debt_takeover_loan", **decided}]],
            }
        ],
    )
    assert sorted(javascript[0]) == sorted(basis.values())
