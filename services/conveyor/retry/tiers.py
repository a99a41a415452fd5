"""Where an unordered handler's failed event goes next: `<service>.retry.<n>` or the dead letters.

Tier `n` holds events that failed `n` times; each carries `x-retry-due-at` (epoch millis) and the
consumer of a tier holds its partition until the head event is due. With `attempts` tries there are
`attempts - 1` tiers.
"""

from __future__ import annotations

from dataclasses import dataclass

from conveyor import naming
from conveyor.retry.policy import Decision, RetryPolicy


@dataclass(frozen=True)
class Destination:
    """The topic a failed event is written to, and for a retry tier when it becomes due."""

    topic: str
    due_at_ms: int | None = None

    @property
    def dead_letter(self) -> bool:
        return self.due_at_ms is None


def tier_topics(service: str, policy: RetryPolicy) -> list[str]:
    """Every retry tier topic a service with this policy consumes, tier 1 first."""
    return [naming.retry_topic(service, n) for n in range(1, policy.attempts)]


def tier_of(service: str, topic: str) -> int | None:
    """The tier number when `topic` is one of `service`'s retry tiers, else None."""
    prefix = naming.retry_topic(service, 1)[:-1]
    if not topic.startswith(prefix):
        return None
    suffix = topic[len(prefix) :]
    return int(suffix) if suffix.isdigit() and int(suffix) >= 1 else None


def plan_unordered(service: str, attempt: int, decision: Decision, now_ms: int) -> Destination:
    """Where the event whose attempt number `attempt` failed goes, given the policy's decision."""
    if not decision.retry:
        return Destination(naming.dead_letter_topic(service))
    return Destination(
        naming.retry_topic(service, attempt), due_at_ms=now_ms + round(decision.delay * 1000)
    )


def held_for(due_at_ms: int | None, now_ms: int) -> float:
    """Seconds a retry tier must still hold an event due at `due_at_ms` (0 when it is due)."""
    if due_at_ms is None:
        return 0.0
    return max(0.0, (due_at_ms - now_ms) / 1000)
