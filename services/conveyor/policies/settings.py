"""Service-wide defaults of the failure policies, read once from the environment in `main`.

A handler's own `HandlerPolicy.retry` wins over the default. `PolicyVariables` is what the
environment says (`conveyor settings` lists it); `PolicySettings` the value the policies use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final

from conveyor.deadletter.breaker import BreakerPolicy
from conveyor.environment import EnvModel, variable
from conveyor.errors import ConveyorError
from conveyor.policies.errors import PolicyConfigError
from conveyor.retry import Backoff, RetryPolicy

_RETRY: Final = RetryPolicy()
_BREAKER: Final = BreakerPolicy()
_LOOKBACK_S: Final = 86_400.0


@dataclass(frozen=True)
class PolicySettings:
    """Service-wide defaults; per-handler values come from each `HandlerPolicy`."""

    default_retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    group: str | None = None  # the consumer group written into x-consumer-group (the service)
    dead_letter_lookback_s: float = _LOOKBACK_S

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PolicySettings:
        return PolicyVariables.from_env(env).policy_settings()


class PolicyVariables(EnvModel):
    """The failure policies' variables."""

    settings_error: ClassVar[type[ConveyorError]] = PolicyConfigError

    retry_attempts: int = variable(
        "CONVEYOR_RETRY_ATTEMPTS",
        _RETRY.attempts,
        sets="default_retry.attempts",
        description="Tries of a failing event, the first included, for handlers without their "
        "own retry policy.",
        example="5",
        ge=1,
    )
    retry_backoff_s: float = variable(
        "CONVEYOR_RETRY_BACKOFF_S",
        _RETRY.backoff.delay,
        sets="default_retry.backoff.delay",
        description="The first exponential backoff delay, in seconds.",
        example="2",
        ge=0,
    )
    retry_max_backoff_s: float = variable(
        "CONVEYOR_RETRY_MAX_BACKOFF_S",
        _RETRY.backoff.max_delay,
        sets="default_retry.backoff.max_delay",
        description="The longest backoff delay, in seconds.",
        example="60",
        ge=0,
    )
    retry_jitter: float = variable(
        "CONVEYOR_RETRY_JITTER",
        0.2,
        sets="default_retry.backoff.jitter",
        description="The share of each delay drawn at random.",
        example="0.5",
        ge=0,
        le=1,
    )
    breaker_max_share: float = variable(
        "CONVEYOR_BREAKER_MAX_SHARE",
        _BREAKER.max_share,
        sets="breaker.max_share",
        description="Share of dead letters among the window's outcomes that opens the "
        "dead-letter breaker.",
        example="0.8",
        gt=0,
        le=1,
    )
    breaker_window_s: float = variable(
        "CONVEYOR_BREAKER_WINDOW_S",
        _BREAKER.window_s,
        sets="breaker.window_s",
        description="Seconds of outcomes the dead-letter breaker judges.",
        example="15",
        gt=0,
    )
    breaker_min_outcomes: int | None = variable(
        "CONVEYOR_BREAKER_MIN_OUTCOMES",
        None,
        shown=str(_BREAKER.min_outcomes),
        sets="breaker.min_outcomes",
        description="Outcomes in the window before the share is judged.",
        example="20",
        ge=1,
    )
    breaker_max_consecutive: int = variable(
        "CONVEYOR_BREAKER_MAX_CONSECUTIVE",
        _BREAKER.max_consecutive,
        sets="breaker.max_consecutive",
        description="Dead letters in a row that open the breaker when no event succeeded "
        "within the window.",
        example="7",
        ge=1,
    )
    breaker_window: int | None = variable(
        "CONVEYOR_BREAKER_WINDOW",
        None,
        sets="breaker.min_outcomes",
        description="Deprecated (a count of outcomes; the window is now "
        "`CONVEYOR_BREAKER_WINDOW_S`): when below 50, the default of "
        "`CONVEYOR_BREAKER_MIN_OUTCOMES`.",
        example="20",
    )
    dead_letter_lookback_s: float = variable(
        "CONVEYOR_DEAD_LETTER_LOOKBACK_S",
        _LOOKBACK_S,
        description="Seconds of recent dead letters read back at each assignment, so a "
        "redelivered event is not dead-lettered twice; longer than any event stays "
        "uncommitted.",
        example="600",
    )

    def policy_settings(self) -> PolicySettings:
        min_outcomes = self.breaker_min_outcomes
        if min_outcomes is None:
            min_outcomes = min(_BREAKER.min_outcomes, self.breaker_window or _BREAKER.min_outcomes)
        try:
            retry = RetryPolicy(
                attempts=self.retry_attempts,
                backoff=Backoff(
                    delay=self.retry_backoff_s,
                    max_delay=self.retry_max_backoff_s,
                    jitter=self.retry_jitter,
                ),
            )
            breaker = BreakerPolicy(
                max_consecutive=self.breaker_max_consecutive,
                max_share=self.breaker_max_share,
                window_s=self.breaker_window_s,
                min_outcomes=min_outcomes,
            )
        except ValueError as error:
            raise PolicyConfigError(f"invalid failure-policy setting: {error}") from None
        return PolicySettings(
            default_retry=retry, breaker=breaker, dead_letter_lookback_s=self.dead_letter_lookback_s
        )
