"""The dispatcher's worker coroutines and sync-handler bridge, without a broker."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any

import pytest

from conveyor.runtime.threads import ThreadBridge
from conveyor.runtime.workers import Workers


def _harness(
    loop: asyncio.AbstractEventLoop, run: Any, limit: int
) -> tuple[Workers[int], list[asyncio.Task[None]]]:
    tasks: list[asyncio.Task[None]] = []

    def spawn(coroutine: Coroutine[Any, Any, None]) -> None:
        tasks.append(loop.create_task(coroutine))

    return Workers(loop, run, spawn, limit), tasks


def test_suspending_items_run_concurrently_up_to_the_limit() -> None:
    """Items whose handlers suspend each get a worker, never more than `limit` at once."""

    async def scenario() -> tuple[list[int], int, int]:
        loop = asyncio.get_running_loop()
        running = 0
        peak = 0
        done: list[int] = []

        async def run(item: int) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1
            done.append(item)

        workers, tasks = _harness(loop, run, limit=3)
        workers.start(range(7))
        while len(done) < 7:
            await asyncio.sleep(0.005)
        for task in tasks:
            task.cancel()
        return done, peak, len(tasks)

    done, peak, spawned = asyncio.run(scenario())
    assert sorted(done) == list(range(7))
    assert peak == 3
    assert spawned == 3


def test_a_burst_of_quick_items_runs_on_one_worker_in_order() -> None:
    """Handlers that never suspend run one after another on the first worker: no task each."""

    async def scenario() -> tuple[list[int], int]:
        loop = asyncio.get_running_loop()
        done: list[int] = []

        async def run(item: int) -> None:
            done.append(item)

        workers, tasks = _harness(loop, run, limit=8)
        workers.start(range(100))
        for _ in range(3):
            await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        return done, len(tasks)

    done, spawned = asyncio.run(scenario())
    assert done == list(range(100))
    assert spawned <= 2  # the first worker, and at most one woken in case it suspended


def test_a_failing_item_does_not_stop_its_worker() -> None:
    """An exception escaping an item goes to the loop's exception handler; later items run."""

    async def scenario() -> tuple[list[int], list[BaseException]]:
        loop = asyncio.get_running_loop()
        reported: list[BaseException] = []
        loop.set_exception_handler(lambda _loop, context: reported.append(context["exception"]))
        done: list[int] = []

        async def run(item: int) -> None:
            if item == 1:
                raise ValueError("boom")
            done.append(item)

        workers, tasks = _harness(loop, run, limit=1)
        workers.start(range(3))
        for _ in range(3):
            await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        return done, reported

    done, reported = asyncio.run(scenario())
    assert done == [0, 2]
    assert [type(error) for error in reported] == [ValueError]


def test_thread_bridge_delivers_results_and_errors_on_the_loop() -> None:
    """Sync callables run on the pool; their results and exceptions resolve loop futures."""

    def fail() -> None:
        raise KeyError("missing")

    async def scenario() -> tuple[list[int], asyncio.Future[Any]]:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            bridge = ThreadBridge(asyncio.get_running_loop(), pool)
            values = await asyncio.gather(*(bridge.run(pow, n, 2) for n in range(20)))
            failed = bridge.run(fail)
            await asyncio.wait([failed])
            return list(values), failed

    values, failed = asyncio.run(scenario())
    assert values == [n * n for n in range(20)]
    with pytest.raises(KeyError):
        failed.result()
