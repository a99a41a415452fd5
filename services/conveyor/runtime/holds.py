"""Items an extension asked to hold back (a retry tier's due time, a rate limit, an open
breaker), per partition and in offset order. A partition with held items stays paused, so the
loop keeps polling instead of sleeping. Runs on the poll thread only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from conveyor.runtime.work import PartitionState, WorkItem

Admit = Callable[[WorkItem, float], float]


class Holds:
    """Held items and when each held partition is next worth re-checking."""

    def __init__(self, admit: Admit) -> None:
        self._admit = admit
        self._queues: dict[PartitionState, deque[WorkItem]] = {}
        self._recheck_at: dict[PartitionState, float] = {}

    def filter(self, items: list[WorkItem], now: float) -> list[WorkItem]:
        """The items that may run now; the others are held (with everything behind them)."""
        ready: list[WorkItem] = []
        for item in items:
            queue = self._queues.get(item.partition)
            if queue is not None:
                queue.append(item)
                continue
            wait = self._admit(item, now)
            if wait > 0:
                self._queues[item.partition] = deque([item])
                self._recheck_at[item.partition] = now + wait
                item.partition.held = True
            else:
                ready.append(item)
        return ready

    def release(self, now: float) -> list[WorkItem]:
        """Held items that became admissible, in order; drops those of partitions gone away."""
        ready: list[WorkItem] = []
        for state in list(self._queues):
            queue = self._queues[state]
            if not state.active:
                self._drop(state)
                continue
            if self._recheck_at[state] > now:
                continue
            while queue:
                wait = self._admit(queue[0], now)
                if wait > 0:
                    self._recheck_at[state] = now + wait
                    break
                ready.append(queue.popleft())
            if not queue:
                self._drop(state)
        return ready

    def held(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    def _drop(self, state: PartitionState) -> None:
        self._queues.pop(state, None)
        self._recheck_at.pop(state, None)
        state.held = False
