"""Sync handlers on a thread pool, their results handed back to the event loop in batches.

`loop.run_in_executor` wakes the loop once per finished call (a `call_soon_threadsafe`, a write
to its self-pipe, a trip through the selector). Here the pool threads append results to one list
and only the first of a batch wakes the loop, which then settles every future in that list.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

_Result = tuple["asyncio.Future[Any]", Any, BaseException | None]


class ThreadBridge:
    """Runs callables on `pool`; each returns a future of the loop, resolved on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: Executor) -> None:
        self._loop = loop
        self._pool = pool
        self._lock = threading.Lock()
        self._results: list[_Result] = []

    def run(self, function: Callable[..., Any], *arguments: object) -> asyncio.Future[Any]:
        """Loop thread: start `function(*arguments)` on the pool."""
        future = self._loop.create_future()
        self._pool.submit(self._call, future, function, arguments)
        return future

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
