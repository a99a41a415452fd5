"""A handler's retry policy as a value, and the decision it makes for one failed attempt."""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from conveyor.retry.backoff import Backoff, compute_backoff
from conveyor.retry.errors import PermanentError, Retry


class Verdict(enum.Enum):
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt: retry after `delay` seconds, or dead-letter."""

    verdict: Verdict
    delay: float = 0.0
    reason: str = ""

    @property
    def retry(self) -> bool:
        return self.verdict is Verdict.RETRY


@dataclass(frozen=True)
class RetryPolicy:
    """BullMQ's `attempts` (total tries, the first included) and `backoff`, plus which
    exceptions are worth retrying. Anything else, and `PermanentError`, dead-letters at once."""

    attempts: int = 3
    backoff: Backoff = field(default_factory=Backoff)
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(
                f"attempts counts the first try too and must be >= 1, not {self.attempts}"
            )

    @classmethod
    def from_tiers(
        cls,
        delays: Sequence[float | timedelta],
        retry_on: tuple[type[BaseException], ...] = (Exception,),
    ) -> RetryPolicy:
        """One retry per declared tier delay (a service's `retry_tiers` in the topology)."""
        seconds = tuple(d.total_seconds() if isinstance(d, timedelta) else float(d) for d in delays)
        if not seconds:
            return cls(attempts=1, retry_on=retry_on)
        return cls(
            attempts=len(seconds) + 1, backoff=Backoff.of_schedule(seconds), retry_on=retry_on
        )

    @property
    def retries(self) -> int:
        """How many times a failing event is tried again after its first attempt."""
        return self.attempts - 1

    def decide(
        self, attempt: int, error: BaseException, draw: Callable[[], float] = random.random
    ) -> Decision:
        """The decision after attempt number `attempt` (1 for the first try) raised `error`."""
        if isinstance(error, PermanentError):
            return Decision(Verdict.DEAD_LETTER, reason="permanent")
        if not isinstance(error, (Retry, *self.retry_on)):
            return Decision(Verdict.DEAD_LETTER, reason="not retryable")
        if attempt >= self.attempts:
            return Decision(Verdict.DEAD_LETTER, reason="attempts exhausted")
        if isinstance(error, Retry):
            return Decision(Verdict.RETRY, delay=error.after, reason="requested")
        return Decision(Verdict.RETRY, delay=compute_backoff(attempt, self.backoff, draw()))


NO_RETRIES = RetryPolicy(attempts=1)
