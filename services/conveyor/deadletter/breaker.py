"""The dead-letter circuit breaker: stop consuming instead of dead-lettering the whole input.

A bad deploy or a downstream outage makes every event fail. When the run of consecutive dead
letters, or their share among the last `window` outcomes, crosses its threshold, the breaker opens
and stays open: the service stops consuming and reports not-ready until an operator restarts it.
Only an event's own failure counts; events that follow a parked key into the dead letters don't.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"


@dataclass(frozen=True)
class BreakerPolicy:
    """Open after `max_consecutive` dead letters in a row, or when more than `max_share` of the
    last `window` outcomes (judged once `min_outcomes` were seen) are dead letters."""

    max_consecutive: int = 50
    max_share: float = 0.5
    window: int = 200
    min_outcomes: int = 50

    def __post_init__(self) -> None:
        if self.max_consecutive < 1 or self.window < 1 or self.min_outcomes < 1:
            raise ValueError("breaker thresholds must be >= 1")
        if not 0.0 < self.max_share <= 1.0:
            raise ValueError(f"max_share is a fraction in (0, 1], not {self.max_share}")
        if self.min_outcomes > self.window:
            raise ValueError("min_outcomes cannot exceed the window it is judged in")


class DeadLetterBreaker:
    """Counts outcomes; `record` returns True on the one outcome that opened it."""

    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self._outcomes: deque[bool] = deque(maxlen=self.policy.window)
        self._dead_in_window = 0
        self._consecutive = 0
        self.state = BreakerState.CLOSED
        self.reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state is BreakerState.OPEN

    def record(self, dead_lettered: bool) -> bool:
        if len(self._outcomes) == self._outcomes.maxlen and self._outcomes[0]:
            self._dead_in_window -= 1
        self._outcomes.append(dead_lettered)
        self._dead_in_window += dead_lettered
        self._consecutive = self._consecutive + 1 if dead_lettered else 0
        if self.is_open:
            return False
        reason = self._trip_reason()
        if reason is None:
            return False
        self.state = BreakerState.OPEN
        self.reason = reason
        return True

    def share(self) -> float:
        """Dead letters among the outcomes in the window."""
        return self._dead_in_window / len(self._outcomes) if self._outcomes else 0.0

    def reset(self) -> None:
        self._outcomes.clear()
        self._dead_in_window = 0
        self._consecutive = 0
        self.state = BreakerState.CLOSED
        self.reason = None

    def _trip_reason(self) -> str | None:
        policy = self.policy
        if self._consecutive >= policy.max_consecutive:
            return (
                f"{self._consecutive} consecutive dead letters (threshold {policy.max_consecutive})"
            )
        if len(self._outcomes) >= policy.min_outcomes and self.share() > policy.max_share:
            return (
                f"{self.share():.0%} of the last {len(self._outcomes)} events dead-lettered "
                f"(threshold {policy.max_share:.0%})"
            )
        return None
