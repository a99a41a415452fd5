"""Batch handlers: collect events of one registration until `max_size` or `max_wait`.

One batch per registration runs at a time, so events reach the handler in fetch order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from conveyor.runtime.service import Registration
from conveyor.runtime.work import PartitionState, Waiting, WorkItem

RunItems = Callable[[list[WorkItem]], Coroutine[Any, Any, None]]
Spawn = Callable[[Coroutine[Any, Any, None]], None]


class BatchCollector:
    """Pending events of one batch registration. Runs on the dispatcher's loop thread."""

    def __init__(
        self,
        registration: Registration,
        loop: asyncio.AbstractEventLoop,
        spawn: Spawn,
        run_items: RunItems,
        waiting: Waiting,
    ) -> None:
        if registration.batch is None:
            raise ValueError("not a batch registration")
        self._policy = registration.batch
        self._loop = loop
        self._spawn = spawn
        self._run_items = run_items
        self._waiting = waiting  # counts the events held here until their batch is due
        self._items: list[WorkItem] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running = False
        self._due = False

    def add(self, item: WorkItem) -> None:
        self._items.append(item)
        self._waiting.count += 1
        if len(self._items) >= self._policy.max_size:
            self._flush()
        elif self._timer is None and not self._running:
            self._timer = self._loop.call_later(self._policy.max_wait, self._on_timer)

    def discard(self, partitions: frozenset[PartitionState]) -> list[WorkItem]:
        dropped = [item for item in self._items if item.partition in partitions]
        self._items = [item for item in self._items if item.partition not in partitions]
        self._waiting.count -= len(dropped)
        return dropped

    def _on_timer(self) -> None:
        self._timer = None
        self._flush()

    def _flush(self) -> None:
        if self._running:
            self._due = True
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._items:
            return
        batch = self._items[: self._policy.max_size]
        self._items = self._items[self._policy.max_size :]
        self._waiting.count -= len(batch)
        self._running = True
        self._due = False
        self._spawn(self._run(batch))

    async def _run(self, batch: list[WorkItem]) -> None:
        try:
            await self._run_items(batch)
        finally:
            self._running = False
            if self._due or len(self._items) >= self._policy.max_size:
                self._flush()
            elif self._items:
                self._timer = self._loop.call_later(self._policy.max_wait, self._on_timer)
