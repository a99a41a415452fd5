"""Service-wide defaults of the failure policies, read once from the environment in `main`.

Variables (all optional): `CONVEYOR_RETRY_ATTEMPTS` (3), `CONVEYOR_RETRY_BACKOFF_S` (1.0, the
first exponential delay), `CONVEYOR_RETRY_MAX_BACKOFF_S` (300), `CONVEYOR_RETRY_JITTER` (0.2),
`CONVEYOR_BREAKER_MAX_SHARE` (0.5), `CONVEYOR_BREAKER_WINDOW_S` (60, the seconds of outcomes
the dead-letter breaker judges), `CONVEYOR_BREAKER_MIN_OUTCOMES` (50, outcomes in that window
before the share is judged), `CONVEYOR_BREAKER_MAX_CONSECUTIVE` (50, dead letters in a row that
open it when no event succeeded within the window), `CONVEYOR_DEAD_LETTER_LOOKBACK_S` (86400:
the recent dead letters read back at each assignment, so a redelivered event is not dead-lettered
twice; longer than any event stays uncommitted). A handler's own `HandlerPolicy.retry` wins
over the default.

`CONVEYOR_BREAKER_WINDOW` (a count of outcomes) is still read: the window is now a time span, so
it only lowers the default of `CONVEYOR_BREAKER_MIN_OUTCOMES` to it when smaller than 50, as the
share was judged before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from conveyor.deadletter.breaker import BreakerPolicy
from conveyor.policies.errors import PolicyConfigError
from conveyor.retry import Backoff, RetryPolicy


@dataclass(frozen=True)
class PolicySettings:
    """Service-wide defaults; per-handler values come from each `HandlerPolicy`."""

    default_retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    group: str | None = None  # the consumer group written into x-consumer-group (the service)
    dead_letter_lookback_s: float = 86_400.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PolicySettings:
        try:
            retry = RetryPolicy(
                attempts=int(env.get("CONVEYOR_RETRY_ATTEMPTS") or 3),
                backoff=Backoff(
                    delay=float(env.get("CONVEYOR_RETRY_BACKOFF_S") or 1.0),
                    max_delay=float(env.get("CONVEYOR_RETRY_MAX_BACKOFF_S") or 300.0),
                    jitter=float(env.get("CONVEYOR_RETRY_JITTER") or 0.2),
                ),
            )
            legacy_window = int(env.get("CONVEYOR_BREAKER_WINDOW") or 50)
            breaker = BreakerPolicy(
                max_consecutive=int(env.get("CONVEYOR_BREAKER_MAX_CONSECUTIVE") or 50),
                max_share=float(env.get("CONVEYOR_BREAKER_MAX_SHARE") or 0.5),
                window_s=float(env.get("CONVEYOR_BREAKER_WINDOW_S") or 60.0),
                min_outcomes=int(
                    env.get("CONVEYOR_BREAKER_MIN_OUTCOMES") or min(50, legacy_window)
                ),
            )
            lookback = float(env.get("CONVEYOR_DEAD_LETTER_LOOKBACK_S") or 86_400.0)
        except ValueError as error:
            raise PolicyConfigError(f"invalid failure-policy setting: {error}") from error
        return cls(default_retry=retry, breaker=breaker, dead_letter_lookback_s=lookback)
