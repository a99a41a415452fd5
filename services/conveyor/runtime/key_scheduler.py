"""Key-ordered scheduling: one item per key at a time, in arrival order; up to N keys at once.

A running item waiting out a retry's backoff steps aside: its key stays busy (its later items
wait) but it no longer holds one of the N slots, so keys backing off never starve the others.
Such a key's items (the one backing off and those behind it) are counted as `waiting`.

A pure data structure: the dispatcher offers items (and learns whether one may start at once),
reports finished keys, and gets back the items it may start now. Keys waiting for a free slot
are served by rank (an item's priority lane, 0 the highest), then first come, first served; every
`share_every`-th slot goes to a lower rank with an item waiting, in turn, so none starves.

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

    def __init__(
        self,
        max_in_flight: int,
        ranks: int = 1,
        rank: Callable[[T], int] | None = None,
        share_every: int = 10,
    ) -> None:
        """`rank(item)`, from 0 to `ranks - 1`: a lower rank takes a free slot first, but for
        every `share_every`-th slot."""
        if max_in_flight < 1 or ranks < 1 or share_every < 2:
            raise ValueError("max_in_flight and ranks must be at least 1, share_every 2")
        self._max = max_in_flight
        self._rank = rank if rank is not None and ranks > 1 else _first
        self._busy: set[Hashable] = set()  # keys with an item running or waiting for a slot
        # a busy key's next item, waiting for a slot: one queue per rank
        self._ready: tuple[deque[tuple[Hashable, T]], ...] = tuple(deque() for _ in range(ranks))
        self._readied = 0  # items in those queues
        self._share_every = share_every
        self._turn = 0  # slots handed out from the rank queues
        self._lower = 0  # the lower rank whose turn of a share slot is next
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
        self._ready[self._rank(item)].append((key, item))
        self._readied += 1
        return False

    def finish(self, key: Hashable) -> Sequence[T]:
        """The running item of `key` is done; returns the items that may start now."""
        self._running -= 1
        behind = self._behind.get(key)
        if behind is not None:
            item = behind.popleft()
            self._ready[self._rank(item)].append((key, item))  # the key stays busy, for a slot
            self._readied += 1
            if not behind:
                del self._behind[key]
        else:
            self._busy.discard(key)
            if not self._readied:
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
        while self._readied and self._running - len(self._aside) < self._max:
            started.append(self._next_ready().popleft()[1])
            self._running += 1
            self._readied -= 1
        return started

    def _next_ready(self) -> deque[tuple[Hashable, T]]:
        """The queue the next free slot serves (one with an item waiting)."""
        queues = self._ready
        if len(queues) == 1:
            return queues[0]
        self._turn += 1
        if self._turn % self._share_every == 0:
            lower = len(queues) - 1
            for step in range(lower):
                queue = queues[1 + (self._lower + step) % lower]
                if queue:
                    self._lower = (self._lower + step + 1) % lower
                    return queue
        return next(queue for queue in queues if queue)

    def discard(self, predicate: Callable[[T], bool]) -> list[T]:
        """Remove queued (not running) items matching `predicate`; returns them in key order."""
        queued: dict[Hashable, list[T]] = {}  # per key, in order: its slot-waiting item first
        for key, item in self._readied_entries():
            queued[key] = [item]
        for key, behind in self._behind.items():
            queued.setdefault(key, []).extend(behind)
        was_ready = {key for key, _ in self._readied_entries()}
        removed: list[T] = []
        for ready in self._ready:
            kept_ready = [entry for entry in ready if not predicate(entry[1])]
            ready.clear()
            ready.extend(kept_ready)
        still_ready = {key for key, _ in self._readied_entries()}
        for key, items in queued.items():
            dropped = [item for item in items if predicate(item)]
            removed.extend(dropped)
            if key in self._aside:
                self._waiting -= len(dropped)
            kept = deque(item for item in items if not predicate(item))
            if key in still_ready:
                kept.popleft()  # its slot-waiting item stays where it is
            elif key in was_ready and kept:
                item = kept.popleft()  # its next item waits for a slot now
                self._ready[self._rank(item)].append((key, item))
            elif key in was_ready:
                self._busy.discard(key)  # nothing of it is left, and nothing of it runs
            if kept:
                self._behind[key] = kept
            else:
                self._behind.pop(key, None)
        self._readied = sum(len(ready) for ready in self._ready)
        return removed

    def _readied_entries(self) -> list[tuple[Hashable, T]]:
        return [entry for ready in self._ready for entry in ready]

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
        return self._readied + sum(len(behind) for behind in self._behind.values())


def _first(item: object) -> int:
    return 0
