"""Pulling through scope changes, as a hypothesis state machine.

A supervisor hands three cases back and forth between two workers, writes notes in them and deletes some, while
worker1's tablet pulls one small page at a time (so that its cursor often stops inside the many records of a case
that entered its scope at one position). However these interleave, after a last full pull the tablet holds
exactly what a fresh bootstrap of worker1 holds: every record of its cases at their latest version, nothing of
the cases it lost, nothing deleted.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from tests.support.machines import AppMachine, run_machine
from tests.support.syncing import Device, new_id

CASES = 3


def held(device: Device) -> dict[str, tuple[int, Any]]:
    return {record_id: (r["version"], r["fields"]) for record_id, r in device.records.items()}


class ScopeMachine(AppMachine):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[list[str]] = [[] for _ in range(CASES)]

    @initialize()
    def setup(self) -> None:
        async def go() -> None:
            self.boss = await self._client("supervisor")
            users = {u["username"]: u["id"] for u in (await self.boss.client.get("/api/users")).json()}
            self.workers = [users["worker1"], users["worker2"]]
            team = (await self.boss.client.get("/api/me")).json()["user"]["team_id"]
            self.case_ids = [new_id() for _ in range(CASES)]
            for i, case_id in enumerate(self.case_ids):
                case = {
                    "team_id": team,
                    "assigned_worker_id": self.workers[i % 2],
                    "type": "rent_arrears",
                    "status": "open",
                    "risk": "low",
                    "title": f"Fall {i}",
                }
                notes = [new_id() for _ in range(3)]
                results = await self.boss.push(
                    self.boss.put("case", case_id, case_id, case),
                    *(self.boss.put("note", n, case_id, {"text": f"Notiz {n[:4]}", "visit_id": None}) for n in notes),
                )
                assert all(r["status"] == "applied" for r in results), results
                self.notes[i] += notes
            await self.boss.pull()
            self.tablet = await self._client("worker1")

        self.run(go())

    @rule(case=st.integers(0, CASES - 1), worker=st.integers(0, 1))
    def reassign(self, case: int, worker: int) -> None:
        async def go() -> None:
            await self.boss.pull()
            case_id = self.case_ids[case]
            version = self.boss.records[case_id]["version"]
            [result] = await self.boss.push(
                self.boss.put("case", case_id, case_id, {"assigned_worker_id": self.workers[worker]}, base=version)
            )
            assert result["status"] == "applied", result

        self.run(go())

    @rule(case=st.integers(0, CASES - 1), count=st.integers(1, 3))
    def write_notes(self, case: int, count: int) -> None:
        notes = [new_id() for _ in range(count)]
        case_id = self.case_ids[case]
        results = self.run(
            self.boss.push(
                *(self.boss.put("note", n, case_id, {"text": f"Notiz {n[:4]}", "visit_id": None}) for n in notes)
            )
        )
        assert all(r["status"] == "applied" for r in results), results
        self.notes[case] += notes

    @rule(case=st.integers(0, CASES - 1), data=st.data())
    def delete_note(self, case: int, data: st.DataObject) -> None:
        if not self.notes[case]:
            return
        note = data.draw(st.sampled_from(self.notes[case]))
        self.notes[case].remove(note)

        async def go() -> None:
            await self.boss.pull()
            base = self.boss.records[note]["version"]
            [result] = await self.boss.push(self.boss.delete("note", note, self.case_ids[case], base=base))
            assert result["status"] == "applied", result

        self.run(go())

    @rule(limit=st.integers(1, 3))
    def tablet_pulls_a_page(self, limit: int) -> None:
        async def go() -> None:
            params: dict[str, Any] = {"limit": limit}
            if self.tablet.cursor:
                params["cursor"] = self.tablet.cursor
            response = await self.tablet.client.get("/api/sync/pull", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["changes"]) <= limit
            for case_id in page["purge"]:
                self.tablet.records = {k: v for k, v in self.tablet.records.items() if v["case_id"] != case_id}
            for change in page["changes"]:
                if change["deleted"]:
                    self.tablet.records.pop(change["id"], None)
                else:
                    self.tablet.records[change["id"]] = change
            self.tablet.cursor = page["cursor"]

        self.run(go())

    def teardown(self) -> None:
        try:
            if hasattr(self, "tablet"):
                self.run(self._compare())
                self.check_feed()
        finally:
            self.close()

    async def _compare(self) -> None:
        await self.tablet.pull(limit=2)
        fresh = await self._client("worker1")
        await fresh.pull()
        assert held(self.tablet) == held(fresh)
        await self.boss.pull()
        mine = {
            case_id
            for case_id in self.case_ids
            if self.boss.records[case_id]["fields"]["assigned_worker_id"] == self.workers[0]
        }
        expected = {k for k, r in self.boss.records.items() if r["case_id"] in mine}
        assert set(fresh.records) == expected


def test_a_tablet_paging_through_reassignments_holds_what_a_bootstrap_holds(
    template_database: str, password_hash: str
) -> None:
    run_machine(ScopeMachine, template_database, password_hash, workers=2, examples=16, steps=25)
