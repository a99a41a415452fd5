"""The last hour of each service's status, in the console process's memory: one point per
sample, oldest dropped first. What the charts draw."""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

from conveyor.ops.status import ServiceStatus


class Point(NamedTuple):
    at_ms: int
    waiting: int
    waiting_seconds: float
    events_per_second: float | None
    retrying: int
    parked: int
    dead_lettered: int

    @classmethod
    def of(cls, status: ServiceStatus) -> Point:
        return cls(
            at_ms=status.taken_at_ms,
            waiting=status.waiting,
            waiting_seconds=round(status.waiting_seconds, 3),
            events_per_second=(
                None if status.events_per_second is None else round(status.events_per_second, 2)
            ),
            retrying=sum(status.retrying.values()),
            parked=status.parked,
            dead_lettered=status.dead_lettered,
        )


class History:
    """Per service, the most recent `points` samples."""

    def __init__(self, points: int) -> None:
        self._points = points
        self._series: dict[str, deque[Point]] = {}

    def add(self, service: str, point: Point) -> None:
        self._series.setdefault(service, deque(maxlen=self._points)).append(point)

    def series(self, service: str) -> list[Point]:
        return list(self._series.get(service, ()))

    def as_columns(self, service: str) -> dict[str, list[Any]]:
        """Column per field (`at_ms: [...]`, `waiting: [...]`, ...): compact JSON for charts."""
        points = self.series(service)
        return {name: [getattr(p, name) for p in points] for name in Point._fields}


STALLED_SAMPLES = 3
"""Samples in a row with events waiting and none handled before a running service shows as
paused."""


def activity(status: ServiceStatus, recent: list[Point]) -> str:
    """`running`, `stopped` (no live member) or `paused`: members, events waiting, and nothing
    committed over the last samples (a partition paused by a rate limit or an open breaker, or
    a handler stuck), as a bull-board user reads a paused queue."""
    if not status.members:
        return "stopped"
    last = recent[-STALLED_SAMPLES:]
    stalled = len(last) == STALLED_SAMPLES and all(
        p.waiting > 0 and p.events_per_second == 0 for p in last
    )
    return "paused" if stalled else "running"
