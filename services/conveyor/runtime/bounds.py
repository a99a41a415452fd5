"""When a partition is paused for back-pressure, and when it is resumed.

Each partition has two bounds. Its pending work (fetched events queued, running or retrying) is
what costs memory and handler concurrency. Its uncommitted span (events fetched past the commit
position, finished ones behind an unfinished one included) is what a crash would deliver again.
A key retrying in place holds the commit position for its whole backoff, so bounding the span as
tightly as the work would stop every other key of the partition until that retry is over.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PartitionBounds:
    max_pending: int
    max_uncommitted: int

    def full(self, pending: int, uncommitted: int) -> bool:
        """Whether fetching must pause."""
        return pending >= self.max_pending or uncommitted >= self.max_uncommitted

    def drained(self, pending: int, uncommitted: int) -> bool:
        """Whether a paused partition may fetch again: half its pending work is done, and a
        pending bound's worth (at most half the span) fits under the uncommitted bound."""
        room = max(1, min(self.max_pending, self.max_uncommitted // 2))
        return pending <= self.max_pending // 2 and uncommitted <= self.max_uncommitted - room
