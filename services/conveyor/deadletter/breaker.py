"""The dead-letter circuit breaker: stop consuming instead of dead-lettering the whole input.

A bad deploy or a downstream outage makes most events fail. The breaker judges outcomes over
time, not in completion order: completions cluster (the failing events of one fetch wave all run
out of retries at about the same moment, while the other keys wait at their pending bound), so a
burst of dead letters right after a stream of successes says nothing about the failure rate.

It opens when, within the last `window_s` seconds,
- more than `max_share` of the outcomes (judged once `min_outcomes` were seen) are dead letters, or
- no event succeeded and at least `max_consecutive` dead letters came in a row (a slow service
  that never reaches `min_outcomes` within the window is still caught).
Once open it stays open: the service stops consuming and reports not-ready until an operator
restarts it. Only an event's own failure counts; events that follow a parked key into the dead
letters don't.

Outcomes are counted in buckets of `window_s / BUCKETS` seconds, so memory does not grow with
throughput; an outcome leaves the window when its whole bucket has.
"""

from __future__ import annotations

import enum
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

BUCKETS = 30  # the window's resolution: outcomes age out window_s / BUCKETS seconds at a time


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"


@dataclass(frozen=True)
class BreakerPolicy:
    """Thresholds over the outcomes of the last `window_s` seconds (see the module docstring).

    `window_s` should be longer than a failing event's whole retry schedule, so the successes
    recorded while the failing events waited for their retries are still in the window when the
    failures complete together.
    """

    max_consecutive: int = 50
    max_share: float = 0.5
    window_s: float = 60.0
    min_outcomes: int = 50

    def __post_init__(self) -> None:
        if self.max_consecutive < 1 or self.min_outcomes < 1:
            raise ValueError("breaker thresholds must be >= 1")
        if not 0.0 < self.max_share <= 1.0:
            raise ValueError(f"max_share is a fraction in (0, 1], not {self.max_share}")
        if not (math.isfinite(self.window_s) and self.window_s > 0):
            raise ValueError(f"window_s must be a positive number of seconds, not {self.window_s}")


@dataclass
class _Bucket:
    index: int
    succeeded: int = 0
    dead: int = 0


class DeadLetterBreaker:
    """Counts outcomes on `clock`; `record` returns True on the one outcome that opened it."""

    def __init__(
        self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._width = self.policy.window_s / BUCKETS
        self._buckets: deque[_Bucket] = deque()
        self._succeeded = 0  # in the window
        self._dead = 0  # in the window
        self._consecutive = 0  # dead letters since the last success
        self._last_success: float | None = None
        self.state = BreakerState.CLOSED
        self.reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state is BreakerState.OPEN

    def record(self, dead_lettered: bool) -> bool:
        now = self._clock()
        bucket = self._current_bucket(now)
        if dead_lettered:
            bucket.dead += 1
            self._dead += 1
            self._consecutive += 1
        else:
            bucket.succeeded += 1
            self._succeeded += 1
            self._consecutive = 0
            self._last_success = now
        if self.is_open:
            return False
        reason = self._trip_reason(now)
        if reason is None:
            return False
        self.state = BreakerState.OPEN
        self.reason = reason
        return True

    def share(self) -> float:
        """Dead letters among the outcomes of the last `window_s` seconds."""
        self._expire(math.floor(self._clock() / self._width))
        total = self._succeeded + self._dead
        return self._dead / total if total else 0.0

    def reset(self) -> None:
        self._buckets.clear()
        self._succeeded = self._dead = self._consecutive = 0
        self._last_success = None
        self.state = BreakerState.CLOSED
        self.reason = None

    def _current_bucket(self, now: float) -> _Bucket:
        index = math.floor(now / self._width)
        self._expire(index)
        if not self._buckets or self._buckets[-1].index < index:
            self._buckets.append(_Bucket(index))
        return self._buckets[-1]  # a clock that steps back counts in the newest bucket

    def _expire(self, index: int) -> None:
        while self._buckets and self._buckets[0].index <= index - BUCKETS:
            old = self._buckets.popleft()
            self._succeeded -= old.succeeded
            self._dead -= old.dead

    def _trip_reason(self, now: float) -> str | None:
        policy = self.policy
        total = self._succeeded + self._dead
        if total >= policy.min_outcomes and self._dead / total > policy.max_share:
            return (
                f"{self._dead / total:.0%} of the {total} events of the last "
                f"{policy.window_s:g} s dead-lettered (threshold {policy.max_share:.0%})"
            )
        no_recent_success = self._last_success is None or now - self._last_success > policy.window_s
        if self._consecutive >= policy.max_consecutive and no_recent_success:
            return (
                f"{self._consecutive} consecutive dead letters and no success in the last "
                f"{policy.window_s:g} s (threshold {policy.max_consecutive})"
            )
        return None
