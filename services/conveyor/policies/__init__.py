"""Retries, dead letters, parked keys, the dead-letter breaker, rate limits and idempotency,
plugged into the consumer runtime as one `RuntimeExtension`:

    store = open_store("sqlite:///var/lib/payments/marks.db")

    @service.handler(OrderPaid, policy=HandlerPolicy(
        ordering=Ordering.ORDERED,
        retry=RetryPolicy(attempts=5, backoff=Backoff(delay=1.0, max_delay=60, jitter=0.2)),
        rate_limit=RateLimit(max=50, duration=1.0),
        idempotency=Idempotency(store),
    ))
    def capture(event: OrderPaid, ctx: Context) -> None: ...

    run_service(service, settings, service_settings, codec,
                extension=Policies(settings.bootstrap_servers, PolicySettings.from_env(env)))

The service's side topics (`<service>.dlq`, `<service>.parked`, `<service>.retry.<n>`) must
exist: declare them in `schemas/topics.yaml` (`side_topics` lists what a service needs).
"""

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
