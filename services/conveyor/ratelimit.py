"""BullMQ's limiter: at most `max` events per `duration` seconds, for the service as a whole.

The first event opens a window of `duration` seconds; later windows follow on the same grid
(so a steady backlog runs at exactly the allowed rate); once a window's budget was let through,
`acquire` says how long until the next window. The runtime pauses the partition for that long and
keeps polling, so a limited handler never sleeps the loop past `max.poll.interval.ms`.

A `Scope.SERVICE` limit (the default) holds across every replica of the service: each member
lets through `max * owned / total`, where `owned` is the number of partitions of the service's
input topics it is assigned and `total` the number those topics have. The consumer group already
decides that split, so the shares need no traffic of their own, sum to `max`, and follow members
joining and leaving at each rebalance. The limit is split by partitions: a member owning a hot
partition gets no more than its partition count earns, and a member owning none gets nothing.
`Scope.PROCESS` gives every process the whole `max` (N replicas: N times the limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class Scope(Enum):
    """Who together stays within a `RateLimit`."""

    SERVICE = "service"  # all members of the service's consumer group, split by partitions
    PROCESS = "process"  # each process on its own (N replicas: N times the limit)


@dataclass(frozen=True)
class RateLimit:
    """At most `max` events per `duration` seconds, for the whole service unless `scope` says
    `Scope.PROCESS`."""

    max: int
    duration: float
    scope: Scope = Scope.SERVICE

    def __post_init__(self) -> None:
        if self.max < 1 or self.duration <= 0:
            raise ValueError(f"a rate limit needs max >= 1 and duration > 0, not {self}")
        if not isinstance(self.scope, Scope):
            raise ValueError(f"a rate limit's scope is a Scope, not {self.scope!r}")


def share_of(limit: RateLimit, owned: int, total: int) -> float:
    """The events per `duration` one member may let through, owning `owned` of the `total`
    partitions of the service's inputs."""
    if limit.scope is Scope.PROCESS:
        return float(limit.max)
    if total <= 0 or owned <= 0:
        return 0.0
    return limit.max * min(owned, total) / total


class RateLimiter:
    """A fixed window counter; `now` is passed in (monotonic seconds), so it is testable.

    A share need not be whole (50 over 3 members is 16.67 per window): window k lets through
    floor((k + 1) * share) - floor(k * share), so over any run of windows the member stays
    within one event of its share."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.share = float(limit.max)  # a lone member owns everything until told otherwise
        self._window_start: float | None = None
        self._window = 0  # index of the current window on the grid
        self._used = 0
        self.limited = 0  # how many times `acquire` said wait (a metric)

    def reshare(self, owned: int, total: int) -> None:
        """The member now owns `owned` of `total` partitions (after an assignment or a
        revocation). The current window keeps what it used; its budget follows the new share."""
        self.share = share_of(self.limit, owned, total)

    def _budget(self) -> int:
        k = self._window
        return math.floor((k + 1) * self.share) - math.floor(k * self.share)

    def acquire(self, now: float) -> float:
        """Count one event and return 0.0 when it may run now, else the seconds to wait (the
        event is not counted then; ask again after the wait)."""
        duration = self.limit.duration
        if self._window_start is None:
            self._window_start = now
        elif now - self._window_start >= duration:
            elapsed_windows = (now - self._window_start) // duration
            self._window_start += elapsed_windows * duration
            self._window += int(elapsed_windows)
            self._used = 0
        if self._used < self._budget():
            self._used += 1
            return 0.0
        self.limited += 1
        return self._window_start + duration - now
