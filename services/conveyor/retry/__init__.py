"""Retry policies: bounded attempts, backoff with jitter, retry tiers of unordered handlers."""

from conveyor.retry.backoff import Backoff, BackoffKind, compute_backoff
from conveyor.retry.errors import PermanentError, Retry, RetryControlError
from conveyor.retry.policy import NO_RETRIES, Decision, RetryPolicy, Verdict
from conveyor.retry.tiers import Destination, held_for, plan_unordered, tier_of, tier_topics

__all__ = [
    "NO_RETRIES",
    "Backoff",
    "BackoffKind",
    "Decision",
    "Destination",
    "PermanentError",
    "Retry",
    "RetryControlError",
    "RetryPolicy",
    "Verdict",
    "compute_backoff",
    "held_for",
    "plan_unordered",
    "tier_of",
    "tier_topics",
]
