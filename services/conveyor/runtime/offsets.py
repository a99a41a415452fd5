"""Per-partition offset tracking: how far the contiguous prefix of completed events reaches.

Offsets are tracked in the order they are fetched (ascending, possibly with gaps from compaction
or transaction markers) and completed in any order. The commit position is the offset after the
last event of the completed prefix, so a commit never passes an event still pending.
"""

from __future__ import annotations

from collections import deque


class OffsetTracker:
    """Fetched-but-unfinished offsets of one partition and its commit position."""

    def __init__(self) -> None:
        self._order: deque[int] = deque()
        self._done: set[int] = set()
        self._last_tracked: int | None = None
        self._position: int | None = None

    def track(self, offset: int) -> None:
        """Record a fetched offset; offsets must arrive in ascending order."""
        if not self.track_if_new(offset):
            raise ValueError(f"offset {offset} tracked after {self._last_tracked}")

    def track_if_new(self, offset: int) -> bool:
        """Record a fetched offset unless it lies within what was tracked already (fetched
        again after a seek); True when it was recorded."""
        last = self._last_tracked
        if last is not None and offset <= last:
            return False
        self._last_tracked = offset
        self._order.append(offset)
        return True

    def complete(self, offset: int) -> bool:
        """Mark an offset finished; True when the commit position moved."""
        order, done = self._order, self._done
        if not order or offset < order[0]:
            return False  # completed before (or never tracked): nothing moves
        if offset != order[0]:
            done.add(offset)  # finished ahead of an older pending one
            return False
        order.popleft()  # the usual case: the oldest pending event finished
        self._position = offset + 1
        while order and order[0] in done:
            head = order.popleft()
            done.discard(head)
            self._position = head + 1
        return True

    @property
    def position(self) -> int | None:
        """The offset to commit (next to read), or None when nothing has completed yet."""
        return self._position

    @property
    def last_tracked(self) -> int | None:
        return self._last_tracked

    @property
    def oldest_unfinished(self) -> int | None:
        """The first tracked offset not yet finished (the head is never in `_done`)."""
        return self._order[0] if self._order else None

    @property
    def unfinished(self) -> int:
        """How many tracked offsets are not yet finished."""
        return len(self._order) - len(self._done)

    @property
    def pending(self) -> int:
        """How many tracked offsets are not yet part of the completed prefix."""
        return len(self._order)
