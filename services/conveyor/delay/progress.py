"""Which offsets past a partition's commit position the scheduler has delivered already.

The scheduler delivers in due order, not offset order, so it commits the offset of the oldest
event still waiting and writes the offsets it delivered beyond it into the commit's metadata, in
the same transaction as the deliveries. A scheduler that takes the partition over reads them back
and skips those events: nothing committed is delivered twice. Offsets are kept as ranges relative
to the commit position (`d1:3,5-9`), and their number is bounded so the metadata stays within the
broker's `offset.metadata.max.bytes` (4096 by default).
"""

from __future__ import annotations

from bisect import bisect_right

MAX_RANGES = 200  # 200 ranges of offsets within 10^6 of the position: under 3,000 bytes
_VERSION = "d1:"


class DeliveredAhead:
    """Sorted, disjoint, inclusive ranges of delivered offsets above a commit position."""

    def __init__(self, ranges: list[tuple[int, int]] | None = None) -> None:
        self._ranges: list[tuple[int, int]] = sorted(ranges or [])

    def __contains__(self, offset: int) -> bool:
        i = bisect_right(self._ranges, (offset, float("inf"))) - 1
        return i >= 0 and self._ranges[i][0] <= offset <= self._ranges[i][1]

    def __len__(self) -> int:
        return len(self._ranges)

    @property
    def full(self) -> bool:
        """One more range might not fit the commit metadata."""
        return len(self._ranges) >= MAX_RANGES

    def add(self, offset: int) -> None:
        ranges = self._ranges
        i = bisect_right(ranges, (offset, float("inf")))
        joins_left = i > 0 and ranges[i - 1][1] >= offset - 1
        joins_right = i < len(ranges) and ranges[i][0] <= offset + 1
        if joins_left and ranges[i - 1][1] >= offset:
            return
        if joins_left and joins_right:
            ranges[i - 1 : i + 1] = [(ranges[i - 1][0], ranges[i][1])]
        elif joins_left:
            ranges[i - 1] = (ranges[i - 1][0], offset)
        elif joins_right:
            ranges[i] = (offset, ranges[i][1])
        else:
            ranges.insert(i, (offset, offset))

    def drop_below(self, position: int) -> None:
        """Forget offsets under `position` (the commit covers them now)."""
        kept = [(max(lo, position), hi) for lo, hi in self._ranges if hi >= position]
        self._ranges = kept

    def encode(self, position: int) -> str:
        parts = []
        for lo, hi in self._ranges:
            start, end = lo - position, hi - position
            parts.append(str(start) if start == end else f"{start}-{end}")
        return _VERSION + ",".join(parts)

    @classmethod
    def decode(cls, metadata: str | None, position: int) -> DeliveredAhead:
        """The ranges `encode` wrote; anything else (no metadata, another writer's) is none."""
        if not metadata or not metadata.startswith(_VERSION):
            return cls()
        ranges = []
        try:
            for part in filter(None, metadata[len(_VERSION) :].split(",")):
                start, _, end = part.partition("-")
                ranges.append((position + int(start), position + int(end or start)))
        except ValueError:
            return cls()
        return cls(ranges)
