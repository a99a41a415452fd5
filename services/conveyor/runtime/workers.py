"""Long-lived worker coroutines on the dispatcher's loop: one task per concurrent slot, not one
per event.

A worker takes runnable items one after another. A handler that finishes without suspending
(a no-op, a cache hit) costs no task and no trip through the loop's ready queue; one that
suspends lets the next worker take the next item. Exactly one idle worker is woken while items
wait, and it wakes the next only if more remain, so a burst of quick handlers runs on one worker.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Run = Callable[[T], Coroutine[Any, Any, None]]
Spawn = Callable[[Coroutine[Any, Any, None]], None]


class Workers(Generic[T]):
    """Runs admitted items with at most `limit` workers. Loop thread only."""

    def __init__(self, loop: asyncio.AbstractEventLoop, run: Run[T], spawn: Spawn, limit: int):
        self._loop = loop
        self._run = run
        self._spawn = spawn
        self._limit = limit
        self._runnable: deque[T] = deque()
        self._idle: list[asyncio.Future[None]] = []
        self._workers = 0
        self._waking = 0  # woken or spawned, not yet running: they will look at `_runnable`

    def start(self, items: Iterable[T]) -> None:
        """Items that may run now (the caller bounds how many run at once)."""
        self._runnable.extend(items)
        if self._runnable:
            self._wake_one()

    def step_aside(self) -> None:
        """The calling worker waits on something long (a retry's backoff): it stops counting
        against the limit, so another may start; `step_back` when it goes on."""
        self._workers -= 1
        if self._runnable:
            self._wake_one()

    def step_back(self) -> None:
        self._workers += 1

    def _wake_one(self) -> None:
        if self._waking:
            return
        while self._idle:
            waiter = self._idle.pop()
            if not waiter.done():
                waiter.set_result(None)
                self._waking += 1
                return
        if self._workers < self._limit:
            self._workers += 1
            self._waking += 1
            self._spawn(self._work())

    async def _work(self) -> None:
        self._waking -= 1
        try:
            while True:
                while self._runnable:
                    item = self._runnable.popleft()
                    if self._runnable:
                        self._wake_one()  # the rest must not wait for this handler
                    try:
                        await self._run(item)
                    except Exception as error:  # reported as a task's would be; work goes on
                        self._loop.call_exception_handler(
                            {"message": "conveyor worker item failed", "exception": error}
                        )
                waiter = self._loop.create_future()
                self._idle.append(waiter)
                await waiter
                self._waking -= 1
        finally:
            self._workers -= 1
