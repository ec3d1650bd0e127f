"""The tablet's local store in Chromium: records are encrypted in IndexedDB under a passphrase-wrapped key."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.support.live import LiveServer
from tests.support.tablet import TABLET_SIZES

pytestmark = [pytest.mark.usefixtures("org"), pytest.mark.browser]

CANARY = "Kanarienvogel-7Q9 Erika Musterfrau, Lindenweg 4"

SCRIPT = """
async ({canary}) => {
  const c = await import("/static/js/crypto.js");
  const s = await import("/static/js/storage.js");
  const started = performance.now();
  const { vault, key } = await c.createVault("Sommer im Hof 2026");
  const deriveMs = performance.now() - started;
  await s.setMeta("vault", vault);
  await s.putRecords(key, [
    { id: "n1", case_id: "c1", kind: "note", version: 3, fields: { text: canary } },
    { id: "n2", case_id: "c2", kind: "note", version: 4, fields: { text: "zweite Notiz" } },
  ]);
  // Everything IndexedDB holds, raw, as bytes and strings.
  const db = await (await import("/static/js/storage.js")).openDB();
  const all = (name) => new Promise((ok) => {
    const request = db.transaction(name).objectStore(name).getAll();
    request.onsuccess = () => ok(request.result);
  });
  const raw = [];
  for (const name of ["meta", "records", "outbox"]) {
    raw.push(JSON.stringify(await all(name), (k, v) => (v instanceof Uint8Array ? Array.from(v) : v)));
  }
  const stored = await s.getMeta("vault");
  const reopened = await c.openVault("Sommer im Hof 2026", stored);
  const back = await s.getRecord(reopened, "n1");
  let wrongPassphrase = "opened";
  try { await c.openVault("sommer im hof 2026", stored); } catch (e) { wrongPassphrase = e.name; }
  const rows = await all("records");
  let moved = "opened";
  try { await c.openJSON(reopened, rows.find((r) => r.id === "n1").blob, "record|n2"); } catch (e) { moved = e.name; }
  await s.applyPage(reopened, { changes: [], purge: ["c1"], cursor: "after-purge" }, new Map());
  const left = (await s.listRecords(reopened)).map((r) => r.id);
  const extractable = reopened.extractable;
  return { raw, back, wrongPassphrase, moved, left, extractable, iterations: stored.iterations, deriveMs };
}
"""


async def test_indexeddb_holds_no_plaintext_and_only_the_passphrase_opens_it(
    browser: Browser, live_server: LiveServer
) -> None:
    context = await browser.new_context(viewport=TABLET_SIZES["portrait"])
    page = await context.new_page()
    await page.goto(live_server.url)
    result = await page.evaluate(SCRIPT, {"canary": CANARY})
    await context.close()
    everything = "".join(result["raw"])
    assert "Kanarienvogel" not in everything
    assert "zweite Notiz" not in everything
    numbers = [int(n) for n in everything.replace("[", ",").replace("]", ",").split(",") if n.strip().isdigit()]
    assert CANARY.encode()[:12] not in bytes(n for n in numbers if n < 256)
    assert result["back"]["fields"]["text"] == CANARY
    assert result["wrongPassphrase"] == "OperationError"
    assert result["moved"] == "OperationError"
    assert result["left"] == ["n2"]
    assert result["extractable"] is False
    assert result["iterations"] >= 600_000


OUTBOX = """
async ({canary}) => {
  const c = await import("/static/js/crypto.js");
  const s = await import("/static/js/outbox.js");
  const { key } = await c.createVault("Sommer im Hof 2026", 1000);
  const mids = [];
  for (const text of [canary, "zwei", "drei"]) {
    mids.push(await s.commitChange(key, { op: "put", kind: "note", id: crypto.randomUUID(), case_id: "c1",
                                     base_version: null, fields: { text, visit_id: null } }, []));
  }
  const db = await (await import("/static/js/storage.js")).openDB();
  const raw = await new Promise((ok) => {
    const request = db.transaction("outbox").objectStore("outbox").getAll();
    request.onsuccess = () => ok(JSON.stringify(request.result, (k, v) => (v instanceof Uint8Array ? [...v] : v)));
  });
  const before = (await s.pending(key)).map((m) => [m.mid, m.fields.text, m.status]);
  await s.settle([
    { mid: 1, status: "applied", version: 10 },
    { mid: 2, status: "rejected", error: { code: "validation", detail: "Zu lang", field: "text" } },
    { mid: 3, status: "conflict", version: 11, conflict_id: "k1" },
  ]);
  const after = (await s.pending(key)).map((m) => [m.mid, m.fields.text, m.status, m.error.field]);
  const next = await s.commitChange(key, { op: "resolve", conflict_id: "k1", value: "x" }, []);
  return { mids, raw, before, after, next };
}
"""


async def test_the_outbox_keeps_mids_in_order_encrypted_and_keeps_rejected_work(
    browser: Browser, live_server: LiveServer
) -> None:
    context = await browser.new_context(viewport=TABLET_SIZES["landscape"])
    page = await context.new_page()
    await page.goto(live_server.url)
    result = await page.evaluate(OUTBOX, {"canary": CANARY})
    await context.close()
    assert result["mids"] == [1, 2, 3]
    assert "Kanarienvogel" not in result["raw"]
    assert result["before"] == [[1, CANARY, "waiting"], [2, "zwei", "waiting"], [3, "drei", "waiting"]]
    # Applied and conflicting work leaves the outbox; rejected work stays for the worker to fix or discard.
    assert result["after"] == [[2, "zwei", "rejected", "text"]]
    assert result["next"] == 4  # mids are never reused
