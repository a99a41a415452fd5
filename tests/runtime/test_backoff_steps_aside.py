"""A key waiting out a retry's backoff keeps its key busy but frees its slot, without a broker."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from conveyor.runtime.key_scheduler import KeyScheduler
from conveyor.runtime.workers import Workers


def test_a_key_stepping_aside_frees_its_slot_and_keeps_its_own_items_waiting() -> None:
    scheduler: KeyScheduler[str] = KeyScheduler(1)
    assert scheduler.offer("A", "a0")
    assert not scheduler.offer("B", "b0")
    assert not scheduler.offer("A", "a1")
    assert scheduler.step_aside("A") == ["b0"], "B takes the slot A gave up"
    assert not scheduler.offer("C", "c0"), "one slot, held by B"
    scheduler.step_back("A")
    assert scheduler.finish("B") == [], "A is back: the only slot is taken again"
    assert scheduler.finish("A") == ["c0"], "first come, first served"
    assert scheduler.finish("C") == ["a1"], "A's own next item waited for A to finish"


def test_a_worker_stepping_aside_lets_another_worker_take_the_waiting_items() -> None:
    """One worker allowed: its item backs off, and the next item runs meanwhile."""

    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        order: list[str] = []
        workers: Workers[str]
        resume = asyncio.Event()

        async def run(item: str) -> None:
            if item == "slow":
                workers.step_aside()
                await resume.wait()
                workers.step_back()
            order.append(item)
            if item == "quick":
                resume.set()

        tasks: list[asyncio.Task[None]] = []

        def spawn(coroutine: Coroutine[Any, Any, None]) -> None:
            tasks.append(loop.create_task(coroutine))

        workers = Workers(loop, run, spawn, 1)
        workers.start(["slow", "quick"])
        await asyncio.wait_for(resume.wait(), 5)
        await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        return order

    assert asyncio.run(scenario()) == ["quick", "slow"]
