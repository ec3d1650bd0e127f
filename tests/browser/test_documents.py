"""Documents on the tablet (docs/domain.md "Documents"): a court letter photographed offline onto its legal event,
kept sealed across reloads, sent after the network returns (resuming after a cut between two chunks), and
downloaded by the supervisor as the same bytes, with no EXIF or GPS data; a consent signed on the tablet and printed
as a letter with its signature; every letter filled from the case."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw, ImageFont
from playwright.async_api import Browser, Page, Route, expect

from server.settings import Settings
from tests.support.accounts import Org
from tests.support.live import LiveServer
from tests.support.syncing import Device, new_id
from tests.support.tablet import (
    _login,
    last_sync,
    raw_indexeddb,
    seed_case,
    server_records,
    unlock,
    until,
    wait_synced,
    worker_tablet,
)

pytestmark = [pytest.mark.browser]
CANARY = "KANARIENVOGEL-7f3a9c"
CHUNK = 512 * 1024


def photo_with_gps(path: Path) -> Path:
    """A photographed court letter, 1,950 × 2,600, on grainy paper (so that it stays larger than two chunks once
    re-encoded), with a GPS position and a canary in its EXIF data."""
    grain = Image.frombytes("RGB", (1950, 2600), hashlib.shake_256(b"brief").digest(1950 * 2600 * 3))
    noise = Image.blend(Image.new("RGB", (1950, 2600), (250, 248, 240)), grain, 0.45)
    draw = ImageDraw.Draw(noise)
    font = ImageFont.load_default(size=60)
    lines = [
        "Amtsgericht Beispielstadt",
        "",
        "Ladung zum Termin in der Räumungssache",
        "Az. 12 C 345/26",
        "",
        "Sie werden zum Termin am 06.12.2026,",
        "10:00 Uhr, Saal 2, geladen.",
    ]
    for number, line in enumerate(lines):
        draw.text((180, 220 + number * 100), line, fill=(15, 15, 25), font=font)
    exif = Image.Exif()
    exif[0x010E] = CANARY  # ImageDescription
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS: latitude, longitude
    noise.save(path, "JPEG", quality=92, exif=exif.tobytes())
    with Image.open(path) as check:
        assert check.getexif().get_ifd(0x8825), "the prepared photo carries GPS data"
    return path


async def fresh_start(page: Page, url: str) -> None:
    await page.reload()
    await unlock(page)
    await page.evaluate(f"location.hash = '{url}'")


async def file_state(page: Page, attachment_id: str) -> Any:
    return await page.evaluate(
        """async (id) => (await (await import("/static/js/files.js")).row(id))?.state""", attachment_id
    )


async def test_a_court_letter_photographed_offline_reaches_the_office_without_its_gps_data(
    browser: Browser, live_server: LiveServer, org: Org, tmp_path: Path, screenshots: Path
) -> None:
    seeded = await seed_case(live_server.url, title="Räumungsklage Lindenweg", worker_id=str(org.worker1_id))
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    event_url = f"#/fall/{seeded.case_id}/legal_event/{seeded.event_id}"
    await context.set_offline(True)
    await page.evaluate(f"location.hash = '{event_url}'")
    await expect(page.get_by_role("heading", name="Dokumente")).to_be_visible()
    await page.get_by_label("Titel des Dokuments").fill("Ladung zum Räumungstermin")
    await page.locator("#doc-camera").set_input_files(str(photo_with_gps(tmp_path / "brief.jpg")))
    await expect(page.locator("#doc-chosen")).to_contain_text("1 Seite gewählt")
    await shot(page, screenshots, "dokument-aufnehmen", "#doc-status")
    await page.get_by_role("button", name="Dokument speichern").click()
    listed = page.locator(".documents .document", has_text="Ladung zum Räumungstermin")
    await expect(listed).to_contain_text("noch nicht übertragen")
    attachment_id = await listed.get_attribute("data-id")
    assert attachment_id

    for _ in range(2):  # still offline: the shell comes from the service worker, the file from IndexedDB
        await fresh_start(page, event_url)
        await expect(page.locator(".documents .document", has_text="Ladung zum Räumungstermin")).to_contain_text(
            "noch nicht übertragen"
        )
    size = await page.evaluate(
        """async (id) => (await (await import("/static/js/files.js")).row(id)).size""", attachment_id
    )
    assert size > 2 * CHUNK  # several chunks, so that the cut below falls between two of them

    # Back online, and the network is cut while the second chunk is on its way.
    offsets: list[int] = []
    cut = {"done": False}

    async def cut_second_chunk(route: Route) -> None:
        if route.request.method == "PATCH":
            offsets.append(int(route.request.headers["upload-offset"]))
            if len(offsets) == 2 and not cut["done"]:
                cut["done"] = True
                await context.set_offline(True)
                await route.abort("internetdisconnected")
                return
        await route.continue_()

    await page.route("**/api/attachments/*/upload", cut_second_chunk)
    await context.set_offline(False)
    for _ in range(300):
        if cut["done"]:
            break
        await asyncio.sleep(0.1)
    await until(page, "async () => !(await navigator.locks.query()).held.some((lock) => lock.name === 'doorstep-sync')")
    assert offsets[:2] == [0, CHUNK]
    async with httpx.AsyncClient(base_url=live_server.url) as office:
        await _login(office, "supervisor")
        halfway = (await office.get(f"/api/attachments/{attachment_id}/upload")).json()
        assert (halfway["offset"], halfway["complete"]) == (CHUNK, False)
        assert (await office.get(f"/api/attachments/{attachment_id}")).status_code == 409  # nothing partial
    assert await file_state(page, attachment_id) == "upload"

    await context.set_offline(False)  # the online event starts a sync, which goes on from the server's offset
    await until(
        page, f"async () => (await (await import('/static/js/files.js')).row('{attachment_id}'))?.state === 'stored'"
    )
    assert offsets[2] == CHUNK  # resumed where the server stood, not from the start
    assert offsets.count(0) == 1

    records = await server_records(live_server.url, seeded.case_id)
    record = next(r for r in records if r["id"] == attachment_id)
    assert record["fields"]["parent_id"] == seeded.event_id
    async with httpx.AsyncClient(base_url=live_server.url) as office:
        await _login(office, "supervisor")
        download = await office.get(f"/api/attachments/{attachment_id}")
    assert download.status_code == 200
    content = download.content
    assert hashlib.sha256(content).hexdigest() == record["fields"]["sha256"]
    assert len(content) == record["fields"]["size"] == size
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 2000
        assert not image.getexif(), "no EXIF data at all, GPS included"
        assert "exif" not in image.info
    assert CANARY.encode() not in content

    # Nothing of the photo is in IndexedDB in clear: neither the canary nor any run of the bytes sent.
    raw = await raw_indexeddb(page)
    assert CANARY not in raw
    # The runs start at the file's head too (its JPEG markers). A 48-byte run cannot turn up in ciphertext by
    # chance, where the three bytes of a JPEG start of image alone sometimes do.
    for start in (0, 1000, len(content) // 2, len(content) - 2000):
        assert ",".join(str(b) for b in content[start : start + 48]) not in raw
    await page.unroute("**/api/attachments/*/upload")

    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}'")
    await expect(page.locator("#p-documents")).to_be_visible()
    await expect(
        page.locator("[aria-labelledby=p-documents] .document", has_text="Ladung zum Räumungstermin")
    ).to_contain_text("auf dem Tablet")
    await shot(page, screenshots, "dokumente-liste", "#p-documents")
    await page.locator("[aria-labelledby=p-documents] a", has_text="Ladung zum Räumungstermin").click()
    await expect(page.locator("#doc-image")).to_be_visible()
    await page.locator("#zoom-in").click()
    await expect(page.locator(".zoom-level")).to_have_text("150 %")
    await shot(page, screenshots, "dokument-ansicht", "#viewer")
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    await context.close()


async def shot(page: Page, screenshots: Path, name: str, focus: str) -> None:
    """The screen at both tablet sizes, scrolled to ``focus``."""
    for width, height in ((1024, 768), (768, 1024)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.locator(focus).scroll_into_view_if_needed()
        await page.evaluate("document.getElementById('toast').hidden = true")
        await page.screenshot(path=str(screenshots / f"{name}-{width}x{height}.png"))
    await page.set_viewport_size({"width": 1024, "height": 768})


async def draw_signature(page: Page) -> None:
    pad = await page.locator("#signature-pad").bounding_box()
    assert pad
    x, y, w, h = pad["x"], pad["y"], pad["width"], pad["height"]
    await page.mouse.move(x + w * 0.1, y + h * 0.6)
    await page.mouse.down()
    for i in range(1, 40):
        await page.mouse.move(x + w * (0.1 + i * 0.018), y + h * (0.6 - 0.25 * ((i % 8) / 8)))
    await page.mouse.up()


async def test_a_consent_signed_on_the_tablet_prints_with_its_signature(
    browser: Browser, live_server: LiveServer, org: Org, screenshots: Path
) -> None:
    seeded = await seed_case(live_server.url, title="Mietrückstand Birkenallee", worker_id=str(org.worker1_id))
    consent_id = new_id()
    async with httpx.AsyncClient(base_url=live_server.url) as office:
        device = Device(office, await _login(office, "supervisor"))
        (result,) = await device.push(
            device.put(
                "consent",
                consent_id,
                seeded.case_id,
                {
                    "purpose": "Antrag auf Übernahme der Mietschulden",
                    "recipient": "Jobcenter Mitte",
                    "scope": ["Vermieterin"],
                    "given_on": "2026-11-30",
                    "form": "written",
                },
            )
        )
        assert result["status"] == "applied"
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}/consent/{consent_id}'")
    await page.get_by_role("link", name="Unterschreiben lassen").click()
    await expect(page.locator("#signature-pad")).to_be_visible()
    await page.get_by_role("button", name="Unterschrift speichern").click()
    await expect(page.get_by_role("alert")).to_have_text("Bitte zuerst im Feld unterschreiben.")
    await page.get_by_label("Name").fill("Erika Beispiel")
    await draw_signature(page)
    await shot(page, screenshots, "unterschrift", "#signature-pad")
    await page.get_by_role("button", name="Unterschrift speichern").click()
    # Sealing the PNG and writing the outbox may wait behind a sync run on a busy machine.
    await expect(page.get_by_role("link", name="Unterschrift Erika Beispiel (Mieter*in)")).to_be_visible(timeout=15_000)

    await page.get_by_role("link", name="Als Brief drucken").click()
    letter = page.locator("#letter")
    await expect(letter).to_contain_text("Antrag auf Übernahme der Mietschulden")
    await expect(letter).to_contain_text("Jobcenter Mitte, Vermieterin")
    await expect(letter.locator(".signature-image")).to_be_visible()
    assert await letter.locator(".signature-image").evaluate("img => img.naturalWidth") == 900
    await page.evaluate("() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; }")
    before = await last_sync(page)
    await page.get_by_role("button", name="Drucken").click()
    await page.get_by_role("button", name="Drucken").click()  # a reprint: printing is no contact
    assert await page.evaluate("window.printed") == 2
    await page.get_by_role("button", name="Als versandt erfassen").click()  # the letter goes out: one contact
    await expect(page.get_by_role("button", name="Versand erfasst")).to_be_disabled()
    await wait_synced(page, before)  # the contact "Brief" is sent, and the letter drawn again from the synced case
    await expect(letter.locator(".signature-image")).to_be_visible()
    await shot(page, screenshots, "brief-einwilligung", "#letter")

    # Two prints and one letter sent: one outgoing letter; the signature reached the server whole.
    records = await until_records(live_server.url, seeded.case_id)
    letters = [r for r in records if r["kind"] == "contact" and r["fields"]["channel"] == "letter"]
    assert [r["fields"]["direction"] for r in letters] == ["outgoing"]
    signature = next(r for r in records if r["kind"] == "attachment")
    assert signature["fields"] | {"signed_at": None, "taken_at": None, "sha256": None, "size": None} == {
        "title": "Unterschrift Einwilligung",
        "content_type": "image/png",
        "purpose": "signature",
        "signer_name": "Erika Beispiel",
        "signer_role": "tenant",
        "parent_kind": "consent",
        "parent_id": consent_id,
        "pages": 1,
        "notes": "",
        "signed_at": None,
        "taken_at": None,
        "sha256": None,
        "size": None,
    }

    letters_shown = {
        "help_offer": "Unsere Beratung ist kostenlos und vertraulich",
        "rent_debt_takeover": "Antrag auf Übernahme von Mietschulden nach § 22 Abs. 8 SGB II",
        "rent_debt_takeover_sgb12": "Antrag auf Übernahme von Mietschulden nach § 36 Abs. 1 SGB XII",
        "installment": "Ratenzahlungsvereinbarung",
        "continuation": "Erklärung über die Fortsetzung des Mietverhältnisses",
        "hold_eviction": "von der Räumung",
        "energy_supplier": "§ 19 Abs. 5 StromGVV/GasGVV",
        "objection": "Widerspruch gegen den Bescheid",
    }
    for name, words in letters_shown.items():
        await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}/brief/{name}'")
        await expect(letter).to_contain_text(words)
        await expect(letter).to_contain_text("Lindenweg 4")
        await expect(letter.locator(".letterhead")).to_be_visible()
        await shot(page, screenshots, f"brief-{name.replace('_', '-')}", "#letter")
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    await context.close()


async def until_records(url: str, case_id: str) -> list[dict[str, Any]]:
    for _ in range(100):
        records = await server_records(url, case_id)
        if any(r["kind"] == "attachment" for r in records) and any(r["kind"] == "contact" for r in records):
            async with httpx.AsyncClient(base_url=url) as office:
                await _login(office, "supervisor")
                attachment = next(r for r in records if r["kind"] == "attachment")
                if (await office.get(f"/api/attachments/{attachment['id']}")).status_code == 200:
                    return records
        await asyncio.sleep(0.3)
    raise AssertionError("the signature and the letter never reached the server")


async def test_a_pdf_is_kept_as_it_is_and_photos_of_several_pages_become_one_pdf(
    browser: Browser, live_server: LiveServer, org: Org, tmp_path: Path, screenshots: Path
) -> None:
    seeded = await seed_case(live_server.url, title="Jobcenter-Bescheid Ahornweg", worker_id=str(org.worker1_id))
    application_id = new_id()
    async with httpx.AsyncClient(base_url=live_server.url) as office:
        device = Device(office, await _login(office, "supervisor"))
        fields = {"kind": "debt_takeover_loan", "decision": "refused", "agency": "Jobcenter Mitte"}
        (result,) = await device.push(device.put("benefit_application", application_id, seeded.case_id, fields))
        assert result["status"] == "applied"
    statement = tmp_path / "bescheid.pdf"
    Image.new("RGB", (600, 800), "white").save(statement, "PDF")
    statement.write_bytes(statement.read_bytes() + f"% {CANARY}\n".encode())  # a comment after the end: still a PDF
    original = statement.read_bytes()
    assert CANARY.encode() in original
    pages = []
    for number in range(2):
        page_path = tmp_path / f"seite{number}.png"
        Image.new("RGB", (1200, 1600), (250, 250, 240 - number * 40)).save(page_path, "PNG")
        pages.append(str(page_path))

    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await context.set_offline(True)
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}/benefit_application/{application_id}'")
    await page.get_by_label("Titel des Dokuments").fill("Ablehnungsbescheid")
    await page.locator("#doc-file").set_input_files(str(statement))
    await page.get_by_role("button", name="Dokument speichern").click()
    await expect(page.locator(".documents .document", has_text="Ablehnungsbescheid")).to_contain_text("PDF, 1 Seite")
    await page.get_by_label("Titel des Dokuments").fill("Kontoauszug")
    await page.locator("#doc-file").set_input_files(pages)
    await page.get_by_role("button", name="Dokument speichern").click()
    scan = page.locator(".documents .document", has_text="Kontoauszug")
    await expect(scan).to_contain_text("PDF, 2 Seiten")
    raw = await raw_indexeddb(page)
    assert CANARY not in raw
    assert "%PDF" not in raw

    # A file that is neither a photo nor a PDF is refused before anything is kept.
    (tmp_path / "notiz.txt").write_text("kein Bild")
    await page.locator("#doc-file").set_input_files(str(tmp_path / "notiz.txt"))
    await page.get_by_role("button", name="Dokument speichern").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Nur Fotos (JPEG, PNG, WebP) und PDF-Dateien können gespeichert werden."
    )

    await context.set_offline(False)
    ids = [
        await page.locator(".documents .document", has_text=t).get_attribute("data-id")
        for t in ("Ablehnungsbescheid", "Kontoauszug")
    ]
    for attachment_id in ids:
        await until(
            page,
            f"async () => (await (await import('/static/js/files.js')).row('{attachment_id}'))?.state === 'stored'",
        )
    async with httpx.AsyncClient(base_url=live_server.url) as office:
        await _login(office, "supervisor")
        kept = (await office.get(f"/api/attachments/{ids[0]}")).content
        combined = (await office.get(f"/api/attachments/{ids[1]}")).content
    assert kept == original  # a PDF travels as it is
    assert combined.startswith(b"%PDF-1.4")
    assert combined.count(b"/Type /Page ") == 2
    assert combined.count(b"/Filter /DCTDecode") == 2

    await page.locator(".documents a", has_text="Kontoauszug").click()
    await expect(page.locator("#pdf-frame")).to_be_attached()
    assert (await page.locator("#pdf-frame").get_attribute("src") or "").startswith("blob:")
    await page.wait_for_timeout(1500)  # the browser's own viewer draws the pages
    await shot(page, screenshots, "dokument-pdf", "#viewer")
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    await context.close()


HOSTILE_LETTER = """<!-- title: Einwilligung (eigene Fassung) -->
{{letterhead}}
<h1 onclick="window.hit = 1">Einwilligung</h1>
<script>window.hit = 2</script>
<img src="x" onerror="window.hit = 3">
<p class="boxed" style="color: red">Ich, <strong>{{tenant_name}}</strong> &amp; Co., &sect; 1</p>
"""


async def test_a_letter_is_built_element_by_element_so_no_template_or_value_can_run_code(
    browser: Browser, live_server: LiveServer, org: Org, settings: Settings
) -> None:
    """docs/security.md case 54: an organisation's own letter with a script, a handler and an image, and a tenant
    whose name is markup; the letter shows the text and the allowed markup, and nothing runs."""
    overrides = Path(settings.data_dir) / "letters"
    overrides.mkdir(exist_ok=True)
    (overrides / "consent.html").write_text(HOSTILE_LETTER, encoding="utf-8")
    seeded = await seed_case(live_server.url, worker_id=str(org.worker1_id))
    hostile = '<img src="x" onerror="window.hit = 4">'
    async with httpx.AsyncClient(base_url=live_server.url) as office:
        device = Device(office, await _login(office, "supervisor"))
        await device.pull()
        base = device.records[seeded.household_id]["version"]
        renamed = device.put("household", seeded.household_id, seeded.case_id, {"name": hostile}, base=base)
        assert (await device.push(renamed))[0]["status"] == "applied"
    context, page = await worker_tablet(browser, live_server.url, "landscape")
    await page.evaluate(f"location.hash = '#/fall/{seeded.case_id}/brief/consent'")
    letter = page.locator("#letter")
    await expect(letter.locator("h1")).to_have_text("Einwilligung")
    await expect(letter.locator("p.boxed strong")).to_have_text(hostile)
    await expect(letter.locator("p.boxed")).to_contain_text("& Co., § 1")
    assert await letter.locator("script, img, [onclick], [onerror], [style]").count() == 0
    assert await page.evaluate("window.hit") is None
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    await context.close()


LETTER_TEXT = """async ([name, records, options]) => {
  const letters = await import("/static/js/letters.js");
  const set = await (await fetch("/letters.json")).json();
  const letter = set.letters.find((l) => l.name === name);
  const values = letters.valuesOf(records, { organisation: "Wohnhilfe", worker: "Frau Weber", ...options });
  const page = document.createElement("article");
  page.append(letters.buildLetter(letter.html, values));
  return page.textContent.replace(/\\s+/g, " ");
}"""


async def test_the_letters_state_the_arrears_apart_from_the_costs_and_say_what_secures_the_flat(
    browser: Browser, live_server: LiveServer
) -> None:
    """Every letter's facts from one case: the Mietschulden without court and lawyer costs (listed apart), the
    Schonfrist's day and the BG number for the Jobcenter, the Sozialamt's variant under § 36 SGB XII, the
    Fortsetzungsklausel only when agreed (else the warning), a person (not "Haushalt …") who signs, the special
    categories named when health data is recorded, and Wohngeld's objection under the VwGO."""
    page = await browser.new_page()
    await page.goto(live_server.url)

    def record(kind: str, fields: dict[str, Any], n: int) -> dict[str, Any]:
        return {"id": f"00000000-0000-7000-8000-00000000000{n}", "kind": kind, "case_id": "c", "fields": fields}

    household = {
        "name": "Haushalt Beispiel",
        "members": [{"name": "Erika Beispiel", "relation": "tenant"}],
        "address": {"street": "Lindenweg", "house_number": "4", "postcode": "10115", "city": "Berlin"},
        "landlord": "Wohnbau Mitte",
    }
    arrears = {
        "rent_arrears_cents": 120000,
        "service_charge_arrears_cents": 30000,
        "use_compensation_arrears_cents": 45000,
        "court_costs_cents": 41800,
        "lawyer_costs_cents": 62500,
    }
    records = [
        record("household", household, 1),
        record(
            "assessment",
            {
                "form_version": 2,
                "arrears": arrears,
                "health": {"notes": "Diabetes"},
                "energy": {"arrears_cents": 84000},
            },
            2,
        ),
        record("legal_event", {"type": "notice_to_quit", "notice_kind": "both", "served_on": "2026-11-20"}, 3),
        record("benefit_application", {"kind": "debt_takeover_loan", "reference": "96301BG0012345"}, 4),
        record("installment_agreement", {"creditor": "landlord", "landlord_withdraws": None}, 5),
        record("consent", {"purpose": "Mietschulden klären", "given_on": "2026-12-09"}, 6),
        record("legal_event", {"type": "disconnection_threat", "served_on": "2026-12-02", "court": "Stadtwerke"}, 7),
        record(
            "legal_event",
            # 00:30 in Berlin on the 18th is still the 17th in UTC: the letter names the local day.
            {"type": "disconnection_notice", "served_on": "2026-12-07", "scheduled_at": "2026-12-17T23:30:00Z"},
            8,
        ),
    ]
    options = {"schonfrist": "2027-01-27"}

    async def text(name: str, these: list[dict[str, Any]] = records) -> str:
        found: str = await page.evaluate(LETTER_TEXT, [name, these, options])
        return found

    jobcenter = await text("rent_debt_takeover")
    assert "Mietschulden in Höhe von 1.950,00 €" in jobcenter
    assert "(Miete 1.200,00 €, Betriebskosten 300,00 €, Nutzungsentschädigung 450,00 €)" in jobcenter
    assert (
        "Gerichtskosten von 418,00 € und Anwaltskosten von 625,00 €. Sie gehören nicht zu den Mietschulden" in jobcenter
    )
    assert "BG-Nummer: 96301BG0012345" in jobcenter
    assert "Die Schonfrist endet am 27.01.2027" in jobcenter
    assert "§ 22 Abs. 8 SGB II" in jobcenter
    sozialamt = await text("rent_debt_takeover_sgb12")
    assert "An das Sozialamt" in sozialamt
    assert "§ 36 Abs. 1 SGB XII" in sozialamt
    assert "SGB II" not in sozialamt
    assert "Aktenzeichen: 96301BG0012345" in sozialamt
    assert "27.01.2027" in sozialamt

    warned = await text("installment")
    assert "Diese Vereinbarung regelt nur den Rückstand. Die Kündigung vom 20.11.2026 bleibt bestehen" in warned
    withdrawn = [
        r
        if r["kind"] != "installment_agreement"
        else record("installment_agreement", {"creditor": "landlord", "landlord_withdraws": True}, 5)
        for r in records
    ]
    secured = await text("installment", withdrawn)
    assert "nimmt die Kündigung vom 20.11.2026 zurück und setzt das Mietverhältnis fort" in secured
    assert "bleibt bestehen" not in secured
    continuation = await text("continuation")
    assert "Die Kündigung vom 20.11.2026 wird zurückgenommen" in continuation
    assert "Wohnbau Mitte" in continuation

    consent = await text("consent")
    assert "Ich, Erika Beispiel," in consent
    assert "Unterschrift Erika Beispiel" in consent
    assert "Haushalt Beispiel" not in consent
    assert "Art. 9 Abs. 1 und Abs. 2 Buchstabe a DSGVO" in consent
    without_health = [r for r in records if r["kind"] != "assessment"]
    assert "Art. 9" not in await text("consent", without_health)
    nobody = [record("household", {**household, "members": []}, 1), *records[1:]]
    assert "Haushalt Beispiel" not in await text("objection", nobody)  # a blank to sign, not the household's name

    supplier = await text("energy_supplier")
    assert "Stadtwerke" in supplier
    assert "Der Rückstand von 840,00 € soll" in supplier
    assert "Androhung der Unterbrechung der Versorgung vom 02.12.2026" in supplier
    assert "Angekündigter Sperrtermin: 18.12.2026" in supplier
    assert "Abwendungsvereinbarung" in supplier
    assert "§ 19 Abs. 2 Satz 2 StromGVV/GasGVV" in supplier

    social = await text("objection")
    assert "Widerspruch ein (§ 84 SGG)" in social
    wohngeld = [
        r if r["kind"] != "benefit_application" else record("benefit_application", {"kind": "wohngeld"}, 4)
        for r in records
    ]
    administrative = await text("objection", wohngeld)
    assert "Widerspruch ein (§§ 68 ff. VwGO in Verbindung mit § 62 SGB X)" in administrative
    assert "SGG" not in administrative
    await page.close()
