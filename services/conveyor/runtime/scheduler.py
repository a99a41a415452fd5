"""Key-ordered scheduling: one item per key at a time, in arrival order; up to N keys at once.

A running item waiting out a retry's backoff steps aside: its key stays busy (its later items
wait) but it no longer holds one of the N slots, so keys backing off never starve the others.
Such a key's items (the one backing off and those behind it) are counted as `waiting`.

A pure data structure: the dispatcher offers items (and learns whether one may start at once),
reports finished keys, and gets back the items it may start now. Keys waiting for a free slot
are served first come, first served.

Per event it costs a few set and counter operations: a key's next item waits for a slot in one
shared queue, and a queue of its own exists only while a key has items behind that one.
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
        self._busy: set[Hashable] = set()  # keys with an item running or waiting for a slot
        self._ready: deque[tuple[Hashable, T]] = deque()  # a busy key's next item, for a slot
        self._behind: dict[Hashable, deque[T]] = {}  # a busy key's later items, in order
        self._running = 0
        self._aside: set[Hashable] = set()  # keys whose running item waits out a backoff
        self._waiting = 0  # the items of those keys: each one backing off, and those behind it

    def offer(self, key: Hashable, item: T) -> bool:
        """Queue an item; True when it may start at once (its key idle, a slot free): the caller
        starts it then, and it is not queued here."""
        if key in self._busy:
            behind = self._behind.get(key)
            if behind is None:
                self._behind[key] = deque((item,))
            else:
                behind.append(item)
            if key in self._aside:
                self._waiting += 1
            return False
        self._busy.add(key)
        if self._running - len(self._aside) < self._max:
            self._running += 1
            return True
        self._ready.append((key, item))
        return False

    def finish(self, key: Hashable) -> Sequence[T]:
        """The running item of `key` is done; returns the items that may start now."""
        self._running -= 1
        behind = self._behind.get(key)
        if behind is not None:
            self._ready.append((key, behind.popleft()))  # the key stays busy, queued for a slot
            if not behind:
                del self._behind[key]
        else:
            self._busy.discard(key)
            if not self._ready:
                return ()  # the usual case: nothing waits for a slot
        return self._fill()

    def step_aside(self, key: Hashable) -> list[T]:
        """The running item of `key` waits (a retry's backoff): its slot goes to the next ready
        key, its own key stays busy. Returns the items that may start now."""
        self._aside.add(key)
        self._waiting += 1 + self.behind(key)
        return self._fill()

    def step_back(self, key: Hashable) -> None:
        """The item of `key` runs again and takes a slot back (past the bound for a moment, if
        need be: no new key starts until the count is under it again)."""
        self._aside.discard(key)
        self._waiting -= 1 + self.behind(key)

    def _fill(self) -> list[T]:
        started: list[T] = []
        while self._ready and self._running - len(self._aside) < self._max:
            started.append(self._ready.popleft()[1])
            self._running += 1
        return started

    def discard(self, predicate: Callable[[T], bool]) -> list[T]:
        """Remove queued (not running) items matching `predicate`; returns them in key order."""
        queued: dict[Hashable, list[T]] = {}  # per key, in order: its slot-waiting item first
        for key, item in self._ready:
            queued[key] = [item]
        for key, behind in self._behind.items():
            queued.setdefault(key, []).extend(behind)
        was_ready = {key for key, _ in self._ready}
        removed: list[T] = []
        self._ready = deque(entry for entry in self._ready if not predicate(entry[1]))
        still_ready = {key for key, _ in self._ready}
        for key, items in queued.items():
            dropped = [item for item in items if predicate(item)]
            removed.extend(dropped)
            if key in self._aside:
                self._waiting -= len(dropped)
            kept = deque(item for item in items if not predicate(item))
            if key in still_ready:
                kept.popleft()  # its slot-waiting item stays where it is
            elif key in was_ready and kept:
                self._ready.append((key, kept.popleft()))  # its next item waits for a slot now
            elif key in was_ready:
                self._busy.discard(key)  # nothing of it is left, and nothing of it runs
            if kept:
                self._behind[key] = kept
            else:
                self._behind.pop(key, None)
        return removed

    def behind(self, key: Hashable) -> int:
        """How many items of `key` wait behind the one it runs."""
        items = self._behind.get(key)
        return 0 if items is None else len(items)

    @property
    def waiting(self) -> int:
        """Items of keys backing off: each one waiting out its backoff, and those behind it."""
        return self._waiting

    @property
    def in_flight(self) -> int:
        return self._running

    @property
    def queued(self) -> int:
        return len(self._ready) + sum(len(behind) for behind in self._behind.values())
