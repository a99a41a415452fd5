"""Retries, dead letters, parked keys, the dead-letter breaker, rate limits and idempotency,
plugged into the consumer runtime as one `RuntimeExtension`."""

from conveyor.policies.errors import EventInFlightError, PolicyConfigError
from conveyor.policies.extension import Policies
from conveyor.policies.idempotent import Idempotency
from conveyor.policies.settings import PolicySettings
from conveyor.policies.topology import declared_retry_policy, side_topics, undeclared_side_topics

__all__ = [
    "EventInFlightError",
    "Idempotency",
    "Policies",
    "PolicyConfigError",
    "PolicySettings",
    "declared_retry_policy",
    "side_topics",
    "undeclared_side_topics",
]
