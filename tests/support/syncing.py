"""A small reference client of the sync protocol for the tests: it speaks only HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

__all__ = ["Device"]


class Device:
    """One logged-in device: a cursor, a ``mid`` counter and the records it pulled."""

    def __init__(self, client: httpx.AsyncClient, login_body: dict[str, Any]) -> None:
        self.client = client
        self.device_id = str(login_body["device_id"])
        self.user_id = str(login_body["user"]["id"])
        self.cursor: str | None = None
        self.mid = 0
        self.records: dict[str, dict[str, Any]] = {}
        self.purged: list[str] = []

    def put(
        self, kind: str, record_id: str, case_id: str, fields: dict[str, Any], base: int | None = None
    ) -> dict[str, Any]:
        """A put mutation with the next mid."""
        self.mid += 1
        return {
            "op": "put",
            "mid": self.mid,
            "kind": kind,
            "id": record_id,
            "case_id": case_id,
            "base_version": base,
            "fields": fields,
        }

    def delete(self, kind: str, record_id: str, case_id: str, base: int | None) -> dict[str, Any]:
        """A delete mutation with the next mid."""
        self.mid += 1
        return {
            "op": "delete",
            "mid": self.mid,
            "kind": kind,
            "id": record_id,
            "case_id": case_id,
            "base_version": base,
        }

    def resolve(self, conflict_id: str, value: Any) -> dict[str, Any]:
        """A resolve mutation with the next mid."""
        self.mid += 1
        return {"op": "resolve", "mid": self.mid, "conflict_id": conflict_id, "value": value}

    async def push_raw(self, mutations: list[dict[str, Any]]) -> httpx.Response:
        """Send a batch as it is."""
        body = {
            "protocol": 1,
            "device_id": self.device_id,
            "schema_version": 1,
            "cursor": self.cursor,
            "mutations": mutations,
        }
        return await self.client.post("/api/sync/push", json=body)

    async def push(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        """Push and return the results (asserting a 200)."""
        response = await self.push_raw(list(mutations))
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    async def pull(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Pull until ``has_more`` is false; apply changes and purges; return every change seen."""
        seen: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"limit": limit}
            if self.cursor:
                params["cursor"] = self.cursor
            response = await self.client.get("/api/sync/pull", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            for case_id in page["purge"]:
                self.purged.append(case_id)
                self.records = {k: v for k, v in self.records.items() if v["case_id"] != case_id}
            for change in page["changes"]:
                seen.append(change)
                if change["deleted"]:
                    self.records.pop(change["id"], None)
                else:
                    self.records[change["id"]] = change
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return seen


def new_id() -> str:
    """A fresh record id."""
    return str(uuid.uuid4())
