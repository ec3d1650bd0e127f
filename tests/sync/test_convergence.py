"""Guarantees 4 and 5 as a hypothesis state machine: three devices edit offline, delete, push and pull in any
interleaving.

A small oracle of the merge rule, written from docs/sync-protocol.md's text, predicts the status of every pushed
mutation; the server must agree on each one. At the end every device pushes and pulls, and all of them must
hold exactly the server's records, with every note any device wrote, and a conflict holding both values for
every concurrent edit of one field.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from tests.support.machines import AppMachine, run_machine
from tests.support.syncing import Device, new_id

DEVICES = 3
EDITABLE = {
    "case": {
        "risk": ["low", "medium", "high", "acute"],
        "title": ["Fall A", "Fall B", "Fall C"],
        "phase": ["pre_court", "court", "enforcement"],
    },
    "action": {
        "title": ["Wohngeld beantragen", "Termin Jobcenter"],
        "status": ["open", "done", "cancelled"],
        "notes": ["", "dringend", "erledigt?"],
    },
}


class Oracle:
    """The server as docs/sync-protocol.md describes it, for the records this test edits."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def expect_put(
        self, record_id: str, base: int | None, fields: dict[str, Any]
    ) -> tuple[str, set[str], dict[str, Any]]:
        record = self.records.get(record_id)
        if record is None:
            return "applied", set(fields), {}
        if record["deleted"]:
            return "conflict", set(), {}
        changed, conflicts = set(), {}
        for name, value in fields.items():
            if record["fields"].get(name) == value:
                continue
            if base is None or record["fv"].get(name, 0) > base:
                conflicts[name] = (record["fields"].get(name), value)
            else:
                changed.add(name)
        return ("conflict" if conflicts else "applied"), changed, conflicts

    def expect_delete(self, record_id: str, base: int) -> str:
        record = self.records[record_id]
        if record["deleted"] or base >= record["version"]:
            return "applied"
        return "conflict"


class SyncMachine(AppMachine):
    """Three devices of one worker, one case with an action, and a supervisor who set it up."""

    def __init__(self) -> None:
        super().__init__()
        self.oracle = Oracle()
        self.devices: list[Device] = []
        self.outbox: list[dict[str, dict[str, Any]]] = [{} for _ in range(DEVICES)]
        self.notes: dict[str, str] = {}
        self.expected_conflicts: list[tuple[str, str, Any, Any]] = []

    @initialize()
    def setup(self) -> None:
        async def go() -> None:
            supervisor = await self._client("supervisor")
            me = (await supervisor.client.get("/api/users")).json()
            worker = next(u["id"] for u in me if u["username"] == "worker1")
            team = (await supervisor.client.get("/api/me")).json()["user"]["team_id"]
            self.case_id, self.action_id = new_id(), new_id()
            case = {
                "team_id": team,
                "assigned_worker_id": worker,
                "type": "rent_arrears",
                "status": "open",
                "risk": "low",
                "title": "Fall A",
            }
            action = {"title": "Wohngeld beantragen", "due_on": "2026-12-01"}
            results = await supervisor.push(
                supervisor.put("case", self.case_id, self.case_id, case),
                supervisor.put("action", self.action_id, self.case_id, action),
            )
            for record_id, fields, result in ((self.case_id, case, results[0]), (self.action_id, action, results[1])):
                assert result["status"] == "applied"
                self.oracle.records[record_id] = {
                    "fields": dict(fields),
                    "deleted": False,
                    "version": result["version"],
                    "fv": dict.fromkeys(fields, result["version"]),
                }
            for _ in range(DEVICES):
                device = await self._client("worker1")
                await device.pull()
                self.devices.append(device)
            self.oracle.records[self.case_id]["fields"].update(self.devices[0].records[self.case_id]["fields"])
            self.oracle.records[self.action_id]["fields"].update(self.devices[0].records[self.action_id]["fields"])

        self.run(go())

    @rule(d=st.integers(0, DEVICES - 1), which=st.sampled_from(["case", "action"]), data=st.data())
    def edit(self, d: int, which: str, data: st.DataObject) -> None:
        target = which
        device = self.devices[d]
        record_id = self.case_id if target == "case" else self.action_id
        if record_id not in device.records:
            return  # this device saw the action deleted
        name = data.draw(st.sampled_from(sorted(EDITABLE[target])))
        value = data.draw(st.sampled_from(EDITABLE[target][name]))
        entry = self.outbox[d].get(record_id)
        if entry is None or entry["op"] != "put":
            entry = device.put(target, record_id, self.case_id, {}, base=device.records[record_id]["version"])
            self.outbox[d][record_id] = entry
        entry["fields"][name] = value  # a client coalesces its offline edits of one record

    # Any text a person can type: every character but NUL, which the server refuses (docs/security.md case 36).
    @rule(
        d=st.integers(0, DEVICES - 1),
        text=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30),
    )
    def write_note(self, d: int, text: str) -> None:
        note_id = new_id()
        self.outbox[d][note_id] = self.devices[d].put("note", note_id, self.case_id, {"text": text, "visit_id": None})
        self.notes[note_id] = text

    @rule(d=st.integers(0, DEVICES - 1))
    def delete_action(self, d: int) -> None:
        device = self.devices[d]
        if self.action_id in device.records and self.action_id not in self.outbox[d]:
            self.outbox[d][self.action_id] = device.delete(
                "action", self.action_id, self.case_id, device.records[self.action_id]["version"]
            )

    @rule(d=st.integers(0, DEVICES - 1))
    def push(self, d: int) -> None:
        self.run(self._push(d))

    async def _push(self, d: int) -> None:
        mutations = sorted(self.outbox[d].values(), key=lambda m: m["mid"])
        self.outbox[d] = {}
        if not mutations:
            return
        results = await self.devices[d].push(*mutations)
        for mutation, result in zip(mutations, results, strict=True):
            record_id = mutation["id"]
            if mutation["kind"] == "note":
                assert result["status"] == "applied", result
                continue
            if mutation["op"] == "delete":
                assert result["status"] == self.oracle.expect_delete(record_id, mutation["base_version"]), result
                if result["status"] == "applied":
                    self.oracle.records[record_id]["deleted"] = True
                    self.oracle.records[record_id]["version"] = result["version"]
                continue
            status, changed, conflicts = self.oracle.expect_put(record_id, mutation["base_version"], mutation["fields"])
            assert result["status"] == status, (mutation, result, self.oracle.records[record_id])
            record = self.oracle.records[record_id]
            if changed:
                for name in changed:
                    record["fields"][name] = mutation["fields"][name]
                    record["fv"][name] = result["version"]
                record["version"] = result["version"]
            for name, (server_value, client_value) in conflicts.items():
                self.expected_conflicts.append((record_id, name, server_value, client_value))

    @rule(d=st.integers(0, DEVICES - 1))
    def pull(self, d: int) -> None:
        self.run(self.devices[d].pull(limit=3))

    def teardown(self) -> None:
        try:
            if self.devices:
                self.run(self._converge())
                self.check_feed()
        finally:
            self.close()

    async def _converge(self) -> None:
        for d in range(DEVICES):
            await self._push(d)
        for device in self.devices:
            await device.pull()
        observer = await self._client("supervisor")
        await observer.pull()
        server = {k: (v["version"], v["fields"]) for k, v in observer.records.items()}
        for device in self.devices:
            assert {k: (v["version"], v["fields"]) for k, v in device.records.items()} == server
        notes = {k: v["fields"]["text"] for k, v in observer.records.items() if v["kind"] == "note"}
        assert notes == self.notes
        conflicts = [v["fields"] for v in observer.records.values() if v["kind"] == "conflict"]
        for record_id, name, server_value, client_value in self.expected_conflicts:
            assert any(
                c["record_id"] == record_id
                and c["field"] == name
                and c["server_value"] == server_value
                and c["client_value"] == client_value
                for c in conflicts
            ), (record_id, name, server_value, client_value)
        for record_id, expected in self.oracle.records.items():
            if expected["deleted"]:
                assert record_id not in server
            else:
                assert server[record_id][1] | expected["fields"] == server[record_id][1]


def test_devices_converge_under_any_interleaving(template_database: str, password_hash: str) -> None:
    run_machine(SyncMachine, template_database, password_hash, workers=1, examples=25, steps=30)
