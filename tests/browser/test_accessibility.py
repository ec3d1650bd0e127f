"""axe-core over every screen and dialog of the tablet at both tablet sizes: no critical or serious violation
(docs/architecture.md "Accessibility"). Moderate and minor findings are listed in the test's output."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from server.auth.models import Role
from tests.support.accounts import PASSWORD, Org, add_user
from tests.support.axe import audit, small_targets
from tests.support.live import LiveServer
from tests.support.tablet import PASSPHRASE, PIN, TABLET_SIZES, new_tablet, seed_case, worker_tablet

pytestmark = [pytest.mark.browser]

WORKER_SCREENS = [
    "#/heute",
    "#/faelle",
    "#/neu",
    "#/fall/{case}",
    "#/fall/{case}/bearbeiten",
    "#/besuch/{visit}",
    "#/einschaetzung/{case}",
    "#/einschaetzung/{case}/budget",
    "#/fall/{case}/legal_event/{event}",
    "#/fall/{case}/consent/neu",
    "#/fall/{case}/installment_agreement/neu",
    "#/fall/{case}/unterschrift/legal_event/{event}",
    "#/fall/{case}/brief/consent",
    "#/konflikte",
    "#/sync",
]
SUPERVISOR_SCREENS = ["#/team", "#/meldungen", "#/berichte", "#/faelle", "#/fall/{case}/auskunft"]
BLOCKING = {"critical", "serious"}


async def visit(page: Page, hash_: str) -> None:
    await page.evaluate(f"location.hash = '{hash_}'")
    await page.wait_for_function("() => document.querySelector('#main h2')")
    await page.wait_for_timeout(300)  # panels that load after the heading


async def sweep(page: Page, screens: list[str], found: list[dict[str, Any]], **ids: str) -> None:
    for orientation, size in TABLET_SIZES.items():
        await page.set_viewport_size(size)
        for screen in screens:
            hash_ = screen.format(**ids)
            await visit(page, hash_)
            for violation in await audit(page):
                found.append({"screen": screen, "size": orientation, **violation})
            for target in await small_targets(page):
                found.append(too_small(screen, orientation, target))


def too_small(screen: str, size: str, target: str) -> dict[str, Any]:
    """A control under 44 × 44 px, reported like an axe violation of ours (serious: a finger misses it)."""
    return {
        "impact": "serious",
        "id": "touch-target-44",
        "help": "smaller than 44 × 44 px",
        "screen": screen,
        "size": size,
        "nodes": [target],
    }


def report(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['impact']:8} {v['id']} on {v['screen']} ({v['size']}): {v['help']} {v['nodes']}" for v in found
    )


async def test_no_screen_has_a_critical_or_serious_accessibility_violation(
    browser: Browser, live_server: LiveServer, org: Org, password_hash: str
) -> None:
    seeded = await seed_case(live_server.url, title="Mietrückstand Lindenweg", worker_id=str(org.worker1_id))
    found: list[dict[str, Any]] = []

    # The login screen, before anything is set up.
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await new_tablet(context)
    await page.goto(live_server.url)
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    found += [{"screen": "login", "size": "landscape", **v} for v in await audit(page)]
    # The audit finds what it should: an image without a text alternative is a critical violation.
    await page.evaluate("() => document.querySelector('main').append(document.createElement('img'))")
    assert "image-alt" in {v["id"] for v in await audit(page)}
    await context.close()

    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await sweep(page, WORKER_SCREENS, found, case=seeded.case_id, visit=seeded.visit_id, event=seeded.event_id)
    # The calendar of a date field, a dialog over the case screen, at both sizes.
    for orientation, size in TABLET_SIZES.items():
        await page.set_viewport_size(size)
        await visit(page, f"#/fall/{seeded.case_id}")
        await page.locator("form[aria-labelledby=p-plan]").get_by_role("button", name="Kalender öffnen").click()
        await expect(page.get_by_role("dialog")).to_be_visible()
        found += [{"screen": "calendar", "size": orientation, **v} for v in await audit(page)]
        found += [too_small("calendar", orientation, target) for target in await small_targets(page)]
        await page.keyboard.press("Escape")
    await page.set_viewport_size(TABLET_SIZES["landscape"])
    await page.get_by_role("button", name="Sperren").click()
    await expect(page.get_by_role("heading", name="Gesperrt")).to_be_visible()
    found += [{"screen": "lock", "size": "landscape", **v} for v in await audit(page)]
    await page.reload()
    await expect(page.get_by_role("heading", name="Gerät entsperren")).to_be_visible()
    await page.get_by_text("Geräte-Passwort vergessen?").click()
    found += [{"screen": "unlock", "size": "landscape", **v} for v in await audit(page)]
    await context.close()

    # Property management's page, with one referral handed over; the same referral waits in the supervisor's inbox.
    await add_user(live_server.database_url, "hausverwaltung", Role.REFERRER, org.team_id, password_hash)
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await context.new_page()
    await page.goto(f"{live_server.url}/meldungen")
    found += [{"screen": "meldungen-login", "size": "landscape", **v} for v in await audit(page)]
    await page.get_by_label("Benutzername").fill("hausverwaltung")
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_label("Name der Mieterin / des Mieters").fill("Erika Musterfrau")
    await page.get_by_role("button", name="Melden", exact=True).click()
    await expect(page.locator("#my-referrals tbody tr")).to_have_count(1)
    found += [{"screen": "meldungen", "size": "landscape", **v} for v in await audit(page)]
    found += [too_small("meldungen", "landscape", target) for target in await small_targets(page)]
    await context.close()

    context, page = await worker_tablet(browser, live_server.url, "landscape", username="supervisor")
    await sweep(page, SUPERVISOR_SCREENS, found, case=seeded.case_id)
    await context.close()

    # The management's Berichte: the organisation's figures beside the year before (no case reaches the device).
    await add_user(live_server.database_url, "leitung", Role.MANAGER, org.team_id, password_hash)
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"], locale="de-DE")
    page = await new_tablet(context)
    await page.goto(live_server.url)
    await page.get_by_label("Benutzername").fill("leitung")
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await page.get_by_label("Geräte-Passwort", exact=True).fill(PASSPHRASE)
    await page.get_by_label("Geräte-Passwort wiederholen").fill(PASSPHRASE)
    await page.get_by_label("PIN (4 bis 8 Ziffern)").fill(PIN)
    await page.get_by_role("button", name="Einrichten und Daten laden").click()
    await expect(page.locator("[data-section=cases] thead th").last).to_contain_text("Vorjahr")
    await sweep(page, ["#/berichte"], found)
    await context.close()

    print("\n" + report(found))
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert not blocking, "\n" + report(blocking)


async def test_every_control_of_the_case_screen_is_reached_by_tab_and_shows_a_focus_ring(
    browser: Browser, live_server: LiveServer, org: Org
) -> None:
    seeded = await seed_case(live_server.url, title="Mietrückstand Lindenweg", worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await visit(page, f"#/fall/{seeded.case_id}")
    focusable = await page.evaluate(
        """() => [...document.querySelectorAll("#main button, #main a[href], #main input, #main select, #main textarea,"
          + " #main summary")].filter((el) => el.getClientRects().length && !el.disabled && el.tabIndex >= 0
          && el.type !== "hidden" && !el.closest("details:not([open]) > :not(summary)")).length"""
    )
    reached: set[str] = set()
    unringed: list[str] = []
    for _ in range(focusable + 40):
        await page.keyboard.press("Tab")
        state = await page.evaluate(
            """() => {
              const el = document.activeElement;
              if (!el || !el.closest("#main")) return null;
              el.dataset.tabbed = el.dataset.tabbed || String(Math.random());
              const style = getComputedStyle(el);
              const name = (el.getAttribute("aria-label") || el.textContent || el.id).trim().slice(0, 40);
              const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
              return { key: el.dataset.tabbed, name, ring };
            }"""
        )
        if state is None:
            continue
        reached.add(state["key"])
        if not state["ring"]:
            unringed.append(state["name"])
    assert not unringed, f"focused without a visible ring: {unringed}"
    assert len(reached) >= focusable, f"{len(reached)} of {focusable} controls reached by Tab"
    await context.close()
