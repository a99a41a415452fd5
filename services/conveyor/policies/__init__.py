"""Retries, dead letters, parked keys, the dead-letter breaker, rate limits and idempotency,
plugged into the consumer runtime as one `RuntimeExtension`:

    store = open_store("sqlite:///var/lib/payments/marks.db")

    @service.handler(OrderPaid, policy=ordered(
        retry=RetryPolicy(attempts=5, backoff=Backoff(delay=1.0, max_delay=60, jitter=0.2)),
        store=store,
        rate_limit=RateLimit(max=50, duration=1.0),
    ))
    def capture(event: OrderPaid, ctx: Context) -> None: ...

    serve(service, settings, env)  # conveyor.serve: the runtime with `Policies` plugged in

The service's side topics (`<service>.dlq`, `<service>.parked` and `<service>.redrive` for
ordered handlers, `<service>.retry.<n>` for unordered ones) must exist: declare them in
`schemas/topics.yaml` (`side_topics` lists what a service needs).
"""

from conveyor.idempotency import Idempotency
from conveyor.policies.errors import EventInFlightError, PolicyConfigError
from conveyor.policies.extension import Policies
from conveyor.policies.handlers import (
    ORDERED_RETRY,
    UNORDERED_RETRY,
    declared_retry,
    ordered,
    unordered,
)
from conveyor.policies.settings import PolicySettings
from conveyor.policies.topology import declared_retry_policy, side_topics, undeclared_side_topics

__all__ = [
    "ORDERED_RETRY",
    "UNORDERED_RETRY",
    "EventInFlightError",
    "Idempotency",
    "Policies",
    "PolicyConfigError",
    "PolicySettings",
    "declared_retry",
    "declared_retry_policy",
    "ordered",
    "side_topics",
    "undeclared_side_topics",
    "unordered",
]
