"""Work waiting for a shared transaction is taken together, by at most ``limit`` tasks, and none is left waiting."""

from __future__ import annotations

import asyncio

from server.db.sharing import Sharing


def take_all(waiting: list[int]) -> list[int]:
    taken, waiting[:] = list(waiting), []
    return taken


async def test_work_queued_at_once_is_taken_together_and_work_queued_later_is_taken_too() -> None:
    runs: list[list[int]] = []
    busy = asyncio.Event()

    async def run(work: list[int]) -> None:
        runs.append(work)
        await busy.wait()

    sharing = Sharing(1, take_all, run)
    for n in range(5):
        sharing.submit(n)
    await asyncio.sleep(0)
    assert runs == [[0, 1, 2, 3, 4]]
    # While the one task runs, what comes waits for it, and goes in its next transaction.
    sharing.submit(5)
    sharing.submit(6)
    busy.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert runs == [[0, 1, 2, 3, 4], [5, 6]]
    # The task has stopped with nothing waiting: new work starts a new one.
    sharing.submit(7)
    for _ in range(3):
        await asyncio.sleep(0)
    assert runs[-1] == [7]
    assert sharing.waiting == []


async def test_at_most_limit_tasks_take_work_at_once() -> None:
    running = 0
    most = 0
    release = asyncio.Event()

    def take_one(waiting: list[int]) -> list[int]:
        return [waiting.pop(0)]

    async def run(work: list[int]) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    sharing = Sharing(2, take_one, run)
    for n in range(6):
        sharing.submit(n)
    await asyncio.sleep(0)
    assert running == 2
    release.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert most == 2
    assert running == 0
    assert sharing.waiting == []
