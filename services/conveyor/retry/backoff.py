"""Backoff schedules, BullMQ style: `fixed` or `exponential` from a base delay, with jitter;
or an explicit `schedule` of delays (the retry tiers declared in `schemas/topics.yaml`).

BullMQ waits `delay * 2 ** (attempts_made - 1)` after the `attempts_made`-th failure for an
exponential backoff, and with a jitter fraction `j` draws the wait uniformly from
`[raw * (1 - j), raw]`. A cap keeps the exponential from growing past `max_delay`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class BackoffKind(enum.Enum):
    FIXED = "fixed"
    EXPONENTIAL = "exponential"
    SCHEDULE = "schedule"  # `schedule[n - 1]` after the n-th failure, its last entry after that


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before the next attempt, as a function of the failures so far."""

    delay: float = 1.0
    kind: BackoffKind = BackoffKind.EXPONENTIAL
    max_delay: float = 300.0
    jitter: float = 0.0
    schedule: tuple[float, ...] = ()

    @classmethod
    def of_schedule(cls, delays: tuple[float, ...], jitter: float = 0.0) -> Backoff:
        """Explicit delays, tier 1 first; the cap is the longest of them."""
        if not delays:
            raise ValueError("a backoff schedule needs at least one delay")
        return cls(kind=BackoffKind.SCHEDULE, schedule=delays, max_delay=max(delays), jitter=jitter)

    def __post_init__(self) -> None:
        if self.delay < 0 or self.max_delay < 0 or any(d < 0 for d in self.schedule):
            raise ValueError("backoff delays must be >= 0 seconds")
        if (self.kind is BackoffKind.SCHEDULE) != bool(self.schedule):
            raise ValueError("a schedule goes with BackoffKind.SCHEDULE, and only with it")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter is a fraction in [0, 1], not {self.jitter}")


def compute_backoff(failures: int, backoff: Backoff, draw: float = 1.0) -> float:
    """Seconds to wait after the `failures`-th failed attempt (1 for the first failure).

    `draw` is a uniform random number in [0, 1] supplied by the caller, so the function stays
    pure: 1.0 gives the un-jittered delay, 0.0 the shortest the jitter allows.
    """
    if failures < 1:
        raise ValueError(f"failures count from 1, not {failures}")
    if not 0.0 <= draw <= 1.0:
        raise ValueError(f"draw is in [0, 1], not {draw}")
    if backoff.kind is BackoffKind.FIXED:
        raw = backoff.delay
    elif backoff.kind is BackoffKind.SCHEDULE:
        raw = backoff.schedule[min(failures, len(backoff.schedule)) - 1]
    else:
        # Past 2**63 the float saturates well beyond any cap; clamp the exponent to stay finite.
        raw = backoff.delay * 2.0 ** min(failures - 1, 1023)
    raw = min(raw, backoff.max_delay)
    return raw * (1.0 - backoff.jitter) + raw * backoff.jitter * draw
