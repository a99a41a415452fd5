"""Sync handlers on a thread pool, their results handed back to the event loop in batches.

`loop.run_in_executor` costs a pool thread's wake-up per call and wakes the loop once per
finished call (a `call_soon_threadsafe`, a write to its self-pipe, a trip through the selector).
Here calls wait in one queue, drained by runners on the pool: a runner takes calls one after
another until none is left, so a burst of quick calls runs on one thread. A runner that takes a
call while others still wait starts one more runner (up to the limit, one start at a time), so
calls that block spread over as many threads as they need. Results go to one list, and only the
first of a batch wakes the loop, which then settles every future in that list.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

_Call = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[object, ...]]
_Result = tuple["asyncio.Future[Any]", Any, BaseException | None]


class ThreadBridge:
    """Runs callables on `pool`, at most `limit` at once; each returns a future of the loop,
    resolved on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: Executor, limit: int) -> None:
        if limit < 1:
            raise ValueError("a thread bridge needs at least one runner")
        self._loop = loop
        self._pool = pool
        self._limit = limit
        self._lock = threading.Lock()  # guards the queue and the runner counts
        self._calls: deque[_Call] = deque()
        self._runners = 0  # started, not yet finished
        self._starting = False  # a runner is started and not yet taking calls (one at a time)
        self._results: list[_Result] = []

    def run(self, function: Callable[..., Any], *arguments: object) -> asyncio.Future[Any]:
        """Loop thread: queue `function(*arguments)` for the pool."""
        future = self._loop.create_future()
        with self._lock:
            self._calls.append((future, function, arguments))
            start = self._may_start()
        if start:
            self._start_runner()
        return future

    def _may_start(self) -> bool:
        """Under the lock: whether to start a runner now (and count it as started)."""
        if self._starting or self._runners >= self._limit:
            return False
        self._runners += 1
        self._starting = True
        return True

    def _drain(self) -> None:
        """A runner, on a pool thread: take calls until none is left."""
        with self._lock:
            self._starting = False
        while True:
            with self._lock:
                if not self._calls:
                    self._runners -= 1
                    return
                call = self._calls.popleft()
                start = bool(self._calls) and self._may_start()
            if start:  # the rest must not wait for this call, which may block
                self._start_runner()
            self._call(*call)

    def _start_runner(self) -> None:
        try:
            self._pool.submit(self._drain)
        except RuntimeError:  # the pool is shut down (the service is stopping): no more runners
            with self._lock:
                self._runners -= 1
                self._starting = False

    def _call(
        self,
        future: asyncio.Future[Any],
        function: Callable[..., Any],
        arguments: tuple[object, ...],
    ) -> None:
        result: _Result
        try:
            result = (future, function(*arguments), None)
        except BaseException as error:  # delivered to the awaiting handler run, as asyncio would
            result = (future, None, error)
        with self._lock:
            self._results.append(result)
            first = len(self._results) == 1
        if first and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            results, self._results = self._results, []
        for future, value, error in results:
            if future.cancelled():
                continue
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
