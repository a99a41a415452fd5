"""Service-wide defaults of the failure policies, read once from the environment in `main`.

Variables (all optional): `CONVEYOR_RETRY_ATTEMPTS` (3), `CONVEYOR_RETRY_BACKOFF_S` (1.0, the
first exponential delay), `CONVEYOR_RETRY_MAX_BACKOFF_S` (300), `CONVEYOR_RETRY_JITTER` (0.2),
`CONVEYOR_BREAKER_MAX_CONSECUTIVE` (50), `CONVEYOR_BREAKER_MAX_SHARE` (0.5),
`CONVEYOR_BREAKER_WINDOW` (200). A handler's own `HandlerPolicy.retry` wins over the default.
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
            window = int(env.get("CONVEYOR_BREAKER_WINDOW") or 200)
            breaker = BreakerPolicy(
                max_consecutive=int(env.get("CONVEYOR_BREAKER_MAX_CONSECUTIVE") or 50),
                max_share=float(env.get("CONVEYOR_BREAKER_MAX_SHARE") or 0.5),
                window=window,
                min_outcomes=min(50, window),
            )
        except ValueError as error:
            raise PolicyConfigError(f"invalid failure-policy setting: {error}") from error
        return cls(default_retry=retry, breaker=breaker)
