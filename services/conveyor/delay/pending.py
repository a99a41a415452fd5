"""One delay-topic partition in the scheduler: its events waiting for their time, in due order.

Events are held in a heap by (due time, offset), so events due sooner leave before older ones due
later, and one key's events due at the same time leave in offset order (one key, one partition).
The commit position is the contiguous prefix of settled offsets (`OffsetTracker`); what was
delivered beyond it is remembered in `DeliveredAhead` for the commit metadata.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from conveyor.delay.envelope import Envelope
from conveyor.delay.progress import DeliveredAhead
from conveyor.runtime.offsets import OffsetTracker


@dataclass(order=True, slots=True)
class Held:
    """One delayed event waiting in memory; ordered by due time, then offset."""

    due_ms: int
    offset: int
    envelope: Envelope = field(compare=False)
    key: bytes | None = field(compare=False)
    value: bytes | None = field(compare=False)


class PartitionQueue:
    """Held events of one partition, its commit position and what was delivered beyond it."""

    def __init__(self, ahead: DeliveredAhead | None = None) -> None:
        self.tracker = OffsetTracker()
        self.ahead = ahead or DeliveredAhead()
        self._heap: list[Held] = []

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, offset: int, held: Held | None) -> None:
        """A fetched record: held until due, or settled at once when it was delivered before
        (per the commit metadata) or is no delayed event (`held` None)."""
        if not self.tracker.track_if_new(offset):
            return  # fetched again after a seek: it is held or settled already
        if held is None or offset in self.ahead:
            self.settle(offset)
        else:
            heapq.heappush(self._heap, held)

    def next_due(self) -> int | None:
        return self._heap[0].due_ms if self._heap else None

    def take_due(self, now_ms: int) -> list[Held]:
        """The held events due at `now_ms`, in due order. An event delivered ahead of an older
        one still waiting needs a place in the commit metadata: when that is full, the events
        wait until the older ones are due."""
        taken: list[Held] = []
        heap = self._heap
        while heap and heap[0].due_ms <= now_ms:
            head = heap[0]
            if head.offset != self.tracker.oldest_unfinished and self.ahead.full:
                break
            taken.append(heapq.heappop(heap))
            self.ahead.add(head.offset)
        return taken

    def settle(self, offset: int) -> None:
        """`offset` is delivered or dropped (cancelled): the commit position may move."""
        self.ahead.add(offset)
        self.tracker.complete(offset)
        position = self.tracker.position
        if position is not None:
            self.ahead.drop_below(position)

    def drop(self, event_ids: set[str]) -> list[Held]:
        """Take out the held events whose ids are in `event_ids` (cancelled)."""
        dropped = [h for h in self._heap if h.envelope.event_id in event_ids]
        if dropped:
            self._heap = [h for h in self._heap if h.envelope.event_id not in event_ids]
            heapq.heapify(self._heap)
        return dropped

    def commit_point(self) -> tuple[int, str] | None:
        """(offset, metadata) to commit, or None when nothing was settled yet."""
        position = self.tracker.position
        if position is None:
            return None
        return position, self.ahead.encode(position)
