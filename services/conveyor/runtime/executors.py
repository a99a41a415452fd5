"""Where handlers run: an event loop on its own thread, and a thread pool for sync handlers.

The loop runs async handlers and all of the dispatcher's own work; sync handlers run on the pool
through a `ThreadBridge`, their results handed back to the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from conveyor.runtime.threads import ThreadBridge


class Executors:
    """The event loop thread and the handlers' thread pool of one service."""

    def __init__(self, sync_workers: int) -> None:
        self.loop = asyncio.new_event_loop()
        self._pool = concurrent.futures.ThreadPoolExecutor(sync_workers, "conveyor-handler")
        self._threads = ThreadBridge(self.loop, self._pool, sync_workers)
        self._loop_thread = threading.Thread(target=self.loop.run_forever, name="conveyor-loop")
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False  # loop thread only

    def start(self) -> None:
        self._loop_thread.start()

    def call_soon_threadsafe(self, callback: Callable[..., object], *arguments: object) -> None:
        """Any thread: run `callback(*arguments)` on the loop thread."""
        self.loop.call_soon_threadsafe(callback, *arguments)

    def stop(self, timeout: float) -> None:
        """Stop the loop thread and the pool; handlers still running are cancelled."""
        self.loop.call_soon_threadsafe(self._close)
        self._loop_thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- loop thread -----------------------------------------------------------------------------
    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run `coroutine` as a task of the loop, cancelled when the executors stop. Once they
        stop, a coroutine spawned by a cancelled task on its way out (a handler's key handing
        its next event to a new worker) is closed unstarted: a task made then would never run,
        and be destroyed pending with the loop."""
        if self._stopping:
            coroutine.close()
            return
        # the loop keeps only weak references to tasks; ours drop themselves when they end
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def run_sync(self, function: Callable[..., Any], *arguments: object) -> asyncio.Future[Any]:
        """`function(*arguments)` on the pool: a future of the loop, resolved on the loop."""
        return self._threads.run(function, *arguments)

    def _close(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        self.loop.call_soon(self.loop.stop)  # after the cancelled tasks' last step
