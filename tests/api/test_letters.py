"""The letters' templates (docs/domain.md "Documents and letters"): served with the offline shell, without a login,
and overridden by the organisation's own files in its data directory."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server.settings import Settings

Client = httpx.AsyncClient


@pytest.mark.usefixtures("org")
async def test_the_organisation_replaces_the_letterhead_and_every_tablet_gets_a_new_shell(
    client: Client, settings: Settings
) -> None:
    default = await client.get("/letters.json")
    assert default.status_code == 200
    body = default.json()
    assert [letter["name"] for letter in body["letters"]] == [
        "consent",
        "rent_debt_takeover",
        "rent_debt_takeover_sgb12",
        "installment",
        "continuation",
        "hold_eviction",
        "energy_supplier",
        "objection",
        "consent_at",
        "installment_at",
        "wohnschirm",
        "eviction_stay",
        "objections_support",
        "help_offer",
        "help_offer_at",
    ]
    assert body["letters"][1]["title"] == "Antrag auf Übernahme von Mietschulden (§ 22 Abs. 8 SGB II)"
    assert "{{organisation}}" in body["letterhead"]
    assert body["organisation"]
    worker_before = (await client.get("/sw.js")).text
    assert '"/letters.json"' in worker_before

    own = Path(settings.data_dir) / "letters"
    own.mkdir(parents=True)
    (own / "letterhead.html").write_text('<header class="letterhead"><p>Wohnhilfe Musterstadt</p></header>')
    changed = (await client.get("/letters.json")).json()
    assert changed["letterhead"] == '<header class="letterhead"><p>Wohnhilfe Musterstadt</p></header>'
    assert changed["letters"] == body["letters"]  # the others stay the defaults
    version = [line for line in (await client.get("/sw.js")).text.splitlines() if line.startswith("const VERSION")]
    assert version != [line for line in worker_before.splitlines() if line.startswith("const VERSION")]
