"""Retries, dead letters, parked keys, the dead-letter breaker, rate limits and idempotency,
plugged into the consumer runtime as one `RuntimeExtension`."""

from conveyor.policies.errors import EventInFlightError, PolicyConfigError
from conveyor.policies.extension import Policies, PolicySettings
from conveyor.policies.idempotent import Idempotency
from conveyor.policies.topology import side_topics

__all__ = [
    "EventInFlightError",
    "Idempotency",
    "Policies",
    "PolicyConfigError",
    "PolicySettings",
    "side_topics",
]
