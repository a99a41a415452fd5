"""Key-ordered scheduling: one item per key at a time, in arrival order; up to N keys at once.

A running item waiting out a retry's backoff steps aside: its key stays busy (its later items
wait) but it no longer holds one of the N slots, so keys backing off never starve the others.

A pure data structure: the dispatcher offers items and reports finished keys, and gets back the
items it may start now. Keys waiting for a free slot are served first come, first served.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class KeyScheduler(Generic[T]):
    """Admits items so that same-key items never overlap and at most `max_in_flight` run."""

    def __init__(self, max_in_flight: int) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._max = max_in_flight
        self._running: set[Hashable] = set()
        self._waiting: dict[Hashable, deque[T]] = {}
        self._ready: deque[Hashable] = deque()  # keys not running, with items, awaiting a slot
        self._aside = 0  # running keys waiting out a backoff: busy, but holding no slot

    def offer(self, key: Hashable, item: T) -> list[T]:
        """Queue an item; returns it at once when its key is idle and a slot is free."""
        queue = self._waiting.get(key)
        if queue is not None:
            queue.append(item)
            return []
        if key in self._running:
            self._waiting[key] = deque([item])
            return []
        if len(self._running) - self._aside < self._max:
            self._running.add(key)
            return [item]
        self._waiting[key] = deque([item])
        self._ready.append(key)
        return []

    def finish(self, key: Hashable) -> Sequence[T]:
        """The running item of `key` is done; returns the items that may start now."""
        self._running.remove(key)
        if key in self._waiting:
            self._ready.append(key)
        elif not self._ready:
            return ()  # the usual case: nothing waits for a slot
        return self._fill()

    def step_aside(self) -> list[T]:
        """A running item waits (a retry's backoff): its slot goes to the next ready key,
        its own key stays busy. Returns the items that may start now."""
        self._aside += 1
        return self._fill()

    def step_back(self) -> None:
        """The item runs again and takes a slot back (past the bound for a moment, if need be:
        no new key starts until the count is under it again)."""
        self._aside -= 1

    def _fill(self) -> list[T]:
        started: list[T] = []
        while self._ready and len(self._running) - self._aside < self._max:
            next_key = self._ready.popleft()
            queue = self._waiting[next_key]
            started.append(queue.popleft())
            if not queue:
                del self._waiting[next_key]
            self._running.add(next_key)
        return started

    def discard(self, predicate: Callable[[T], bool]) -> list[T]:
        """Remove queued (not running) items matching `predicate`; returns them in key order."""
        removed: list[T] = []
        for key in list(self._waiting):
            queue = self._waiting[key]
            kept = deque(item for item in queue if not predicate(item))
            removed.extend(item for item in queue if predicate(item))
            if kept:
                self._waiting[key] = kept
            else:
                del self._waiting[key]
                if key in self._ready:
                    self._ready.remove(key)
        return removed

    @property
    def in_flight(self) -> int:
        return len(self._running)

    @property
    def queued(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())
