"""The dispatcher's worker coroutines and sync-handler bridge, without a broker."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Coroutine
from typing import Any

import pytest

from conveyor.runtime.executors import Executors
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


def test_work_spawned_by_a_task_cancelled_as_the_executors_stop_is_closed_unstarted() -> None:
    """A handler cancelled by `stop` hands its key's next event on in its `finally`, which
    spawns a worker: that coroutine is closed, not made a task that could never run (destroyed
    pending with the loop: "coroutine 'Workers._work' was never awaited")."""
    executors = Executors(1)
    running = threading.Event()
    spawned: list[Coroutine[Any, Any, None]] = []

    async def next_worker() -> None:
        raise AssertionError("nothing runs once the executors stop")

    async def handler() -> None:
        try:
            running.set()
            await asyncio.sleep(60)
        finally:
            spawned.append(next_worker())
            executors.spawn(spawned[0])

    executors.start()
    executors.call_soon_threadsafe(executors.spawn, handler())
    assert running.wait(5)
    executors.stop(5)
    assert [inspect.getcoroutinestate(c) for c in spawned] == [inspect.CORO_CLOSED]


def test_thread_bridge_delivers_results_and_errors_on_the_loop() -> None:
    """Sync callables run on the pool; their results and exceptions resolve loop futures."""

    def fail() -> None:
        raise KeyError("missing")

    async def scenario() -> tuple[list[int], asyncio.Future[Any]]:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            bridge = ThreadBridge(asyncio.get_running_loop(), pool, 4)
            values = await asyncio.gather(*(bridge.run(pow, n, 2) for n in range(20)))
            failed = bridge.run(fail)
            await asyncio.wait([failed])
            return list(values), failed

    values, failed = asyncio.run(scenario())
    assert values == [n * n for n in range(20)]
    with pytest.raises(KeyError):
        failed.result()


def test_thread_bridge_runs_a_burst_of_quick_calls_on_few_threads() -> None:
    """Quick calls queued together are taken one after another by a runner, rather than each
    waking a pool thread of its own: 300 of them use a handful of the pool's 64 threads."""

    async def scenario() -> list[int]:
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            bridge = ThreadBridge(asyncio.get_running_loop(), pool, 64)
            runs = (bridge.run(threading.get_ident) for _ in range(300))
            idents: list[int] = await asyncio.gather(*runs)
            return idents

    threads = asyncio.run(scenario())
    assert len(threads) == 300
    assert len(set(threads)) <= 8


def test_thread_bridge_spreads_blocking_calls_up_to_its_limit() -> None:
    """Calls that block get a thread each, up to the limit and no further (even when the pool
    has more threads); the others wait for a free runner and run after them."""
    limit, calls = 4, 10
    lock = threading.Lock()
    release = threading.Event()
    running = [0]
    most = [0]

    def block(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1
        return n

    async def scenario() -> list[int]:
        with concurrent.futures.ThreadPoolExecutor(calls) as pool:
            bridge = ThreadBridge(asyncio.get_running_loop(), pool, limit)
            futures = [bridge.run(block, n) for n in range(calls)]
            for _ in range(500):
                if running[0] == limit:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # time for a runner past the limit to show up, if any did
            assert running[0] == limit
            release.set()
            results: list[int] = await asyncio.gather(*futures)
            return results

    assert asyncio.run(scenario()) == list(range(calls))
    assert most[0] == limit


def test_thread_bridge_needs_a_runner() -> None:
    """A limit below one is refused: no call could ever run."""
    loop = asyncio.new_event_loop()
    try:
        with (
            concurrent.futures.ThreadPoolExecutor(1) as pool,
            pytest.raises(ValueError, match="at least one runner"),
        ):
            ThreadBridge(loop, pool, 0)
    finally:
        loop.close()
