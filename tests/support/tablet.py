"""Helpers for driving the tablet app: seed a caseload over the API, set up a device, read what the server holds."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.accounts import PASSWORD
from tests.support.clock import BERLIN, now
from tests.support.syncing import Device, new_id

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TABLET_SIZES = {"landscape": {"width": 1024, "height": 768}, "portrait": {"width": 768, "height": 1024}}

PASSPHRASE = "Sommer im Hof 2026"
PIN = "2468"

# Everything IndexedDB holds, as text: Uint8Arrays become lists of numbers, and every byte run is also tried as
# UTF-8 so that a plaintext that slipped into a binary field would be found too.
RAW_INDEXEDDB = """
async () => {
  const db = await new Promise((ok, fail) => {
    const request = indexedDB.open("doorstep");
    request.onsuccess = () => ok(request.result);
    request.onerror = () => fail(request.error);
  });
  const out = [];
  for (const name of db.objectStoreNames) {
    const rows = await new Promise((ok) => {
      const request = db.transaction(name).objectStore(name).getAll();
      request.onsuccess = () => ok(request.result);
    });
    out.push(JSON.stringify(rows, (k, v) => {
      if (!(v instanceof Uint8Array)) return v;
      return new TextDecoder("utf-8", { fatal: false }).decode(v) + Array.from(v).join(",");
    }));
  }
  db.close();
  return out.join("\\n");
}
"""


@dataclass
class Seeded:
    """One case of worker1 with a household, a visit planned today and a court date next week."""

    case_id: str
    household_id: str
    visit_id: str
    event_id: str
    title: str


async def seed_case(
    base_url: str,
    title: str = "Mietrückstand Lindenweg",
    worker_id: str | None = None,
    team_id: str | None = None,
    deadline_days: int = 6,
    case_type: str = "rent_arrears",
    zone: dt.tzinfo = BERLIN,
) -> Seeded:
    """A supervisor creates a case for ``worker_id`` over the sync API. "Today" is today on the test's pinned clock
    in ``zone``, the tablet browser's time zone (Berlin, as every test tablet's)."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        body = await _login(client, "supervisor")
        device = Device(client, body)
        case_id, household_id, visit_id, event_id = new_id(), new_id(), new_id(), new_id()
        today = now().astimezone(zone).date()
        planned = dt.datetime.combine(today, dt.time(23, 30), tzinfo=zone).astimezone().isoformat()
        results = await device.push(
            device.put(
                "case",
                case_id,
                case_id,
                {
                    "team_id": team_id or str(body["user"]["team_id"]),
                    "assigned_worker_id": worker_id,
                    "type": case_type,
                    "status": "open",
                    "risk": "high",
                    "title": title,
                    "household_id": household_id,
                },
            ),
            device.put(
                "household",
                household_id,
                case_id,
                {
                    "name": "Haushalt Beispiel",
                    "address": {"street": "Lindenweg", "house_number": "4", "city": "Beispielstadt"},
                },
            ),
            device.put(
                "visit",
                visit_id,
                case_id,
                {"assigned_worker_id": worker_id, "planned_at": planned, "status": "planned"},
            ),
            device.put(
                "legal_event",
                event_id,
                case_id,
                {
                    "type": "court_date",
                    "scheduled_at": dt.datetime.combine(
                        today + dt.timedelta(days=deadline_days), dt.time(10), tzinfo=zone
                    )
                    .astimezone()
                    .isoformat(),
                },
            ),
        )
        assert all(r["status"] == "applied" for r in results), results
    return Seeded(case_id, household_id, visit_id, event_id, title)


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, Any]:
    response = await client.post(
        "/api/auth/login",
        json={"username": username, "password": PASSWORD, "device_name": "Büro", "device_id": None},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return body


async def server_records(base_url: str, case_id: str, username: str = "supervisor") -> list[dict[str, Any]]:
    """Every live record of a case as the server holds it, pulled by the supervisor over the API."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        device = Device(client, await _login(client, username))
        await device.pull()
        return [r for r in device.records.values() if r["case_id"] == case_id]


async def until_on_server(
    base_url: str, case_id: str, predicate: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The case's records on the server, once ``predicate`` holds for them."""
    for _ in range(100):
        records = await server_records(base_url, case_id)
        if predicate(records):
            return records
        await asyncio.sleep(0.2)
    raise AssertionError("the server never held the expected records")


async def settle(page: Page) -> None:
    """Let the tablet derive its follow-ups (deadline actions, the case's phase) and sync them, so that a test that
    goes offline next starts from an empty outbox."""
    before = await last_sync(page)
    await page.evaluate(
        """async () => {
          await (await import("/static/js/data.js")).followUps();
          (await import("/static/js/sync.js")).syncNow();
        }"""
    )
    await wait_synced(page, before)


async def setup_device(page: Page, base_url: str, username: str = "worker1", password: str = PASSWORD) -> None:
    """First start on a new tablet: log in, choose the device passphrase and PIN, wait for the first sync."""
    await page.goto(base_url)
    await page.get_by_label("Benutzername").fill(username)
    await page.get_by_label("Passwort").fill(password)
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_label("Geräte-Passwort", exact=True).fill(PASSPHRASE)
    await page.get_by_label("Geräte-Passwort wiederholen").fill(PASSPHRASE)
    await page.get_by_label("PIN (4 bis 8 Ziffern)").fill(PIN)
    await page.get_by_role("button", name="Einrichten und Daten laden").click()
    await wait_synced(page)
    await settle(page)


async def unlock(page: Page) -> None:
    """A cold start: the device passphrase opens the data."""
    await expect(page.get_by_role("heading", name="Gerät entsperren")).to_be_visible()
    await page.get_by_label("Geräte-Passwort").fill(PASSPHRASE)
    await page.get_by_role("button", name="Entsperren").click()
    await expect(page.locator("#nav")).to_be_visible()


async def until(page: Page, script: str, arg: Any = None, seconds: float = 30) -> Any:
    """Evaluate an async ``script`` until it returns something truthy (``wait_for_function`` takes a returned
    promise itself for a truthy answer, so it cannot wait on IndexedDB)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await page.evaluate(script, arg)
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"still false after {seconds} s: {script}")
        await asyncio.sleep(0.1)


SYNCED = """async (before) => {
  const s = await import("/static/js/storage.js");
  const last = await s.getMeta("last_sync");
  const counts = await (await import("/static/js/outbox.js")).outboxCounts();
  return Boolean(last) && last !== before && counts.total === 0 && document.getElementById("sync-bar").hidden;
}"""


async def wait_synced(page: Page, before: str | None = None, seconds: float = 30) -> None:
    """Until a sync that finished after ``before`` (the last sync time then) left nothing in the outbox."""
    await until(page, SYNCED, before, seconds)


async def last_sync(page: Page) -> str | None:
    value: str | None = await page.evaluate(
        """async () => (await import("/static/js/storage.js")).getMeta("last_sync")"""
    )
    return value


async def sync_now(page: Page) -> None:
    """Open the sync status screen and press "Jetzt synchronisieren"; wait until the run is over."""
    await page.get_by_role("link", name="Sync-Status").click()
    before = await last_sync(page)
    await page.get_by_role("button", name="Jetzt synchronisieren").click()
    await wait_synced(page, before)


async def raw_indexeddb(page: Page) -> str:
    text: str = await page.evaluate(RAW_INDEXEDDB)
    return text


async def outbox_size(page: Page) -> int:
    size: int = await page.evaluate(
        """async () => (await (await import("/static/js/outbox.js")).outboxCounts()).total"""
    )
    return size


async def new_tablet(context: BrowserContext) -> Page:
    """A fresh page whose console errors (other than expected 401s) are collected on ``page.errors``."""
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    expected = ("401", "ERR_INTERNET_DISCONNECTED")  # logged-out checks, and requests made while offline
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and not any(e in m.text for e in expected) else None,
    )
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def worker_tablet(
    browser: Browser, base_url: str, orientation: str, username: str = "worker1"
) -> tuple[BrowserContext, Page]:
    """A new tablet (its own browser context) at a tablet size, set up for ``username`` and synced."""
    context = await browser.new_context(viewport=TABLET_SIZES[orientation], locale="de-DE")
    page = await new_tablet(context)
    await setup_device(page, base_url, username)
    return context, page


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
