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
        if self._last_tracked is not None and offset <= self._last_tracked:
            raise ValueError(f"offset {offset} tracked after {self._last_tracked}")
        self._last_tracked = offset
        self._order.append(offset)

    def is_new(self, offset: int) -> bool:
        """Whether `offset` lies past everything tracked so far."""
        return self._last_tracked is None or offset > self._last_tracked

    def complete(self, offset: int) -> bool:
        """Mark an offset finished; True when the commit position moved."""
        if offset not in self._done and self._order and offset >= self._order[0]:
            self._done.add(offset)
        moved = False
        while self._order and self._order[0] in self._done:
            head = self._order.popleft()
            self._done.discard(head)
            self._position = head + 1
            moved = True
        return moved

    @property
    def position(self) -> int | None:
        """The offset to commit (next to read), or None when nothing has completed yet."""
        return self._position

    @property
    def last_tracked(self) -> int | None:
        return self._last_tracked

    @property
    def pending(self) -> int:
        """How many tracked offsets are not yet part of the completed prefix."""
        return len(self._order)
