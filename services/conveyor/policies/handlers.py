"""Handler policies as values, built by name: `ordered()` and `unordered()`.

Unordered handlers move a failed event through the retry tiers `schemas/topics.yaml` declares
for their service (`<service>.retry.<n>`, each with its delay), then to the dead letters;
`declared_retry` reads them. Ordered handlers retry in place, only the failing key waiting, then
dead-letter and park the key.
"""

from __future__ import annotations

from conveyor.idempotency import Idempotency, ProcessedEventStore
from conveyor.policies.topology import declared_retry_policy
from conveyor.ratelimit import RateLimit
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import HandlerPolicy, Ordering
from conveyor.topology import Topology

# When no tiers are declared (unit tests): three tiers, 5, 10 and 20 s.
UNORDERED_RETRY = RetryPolicy(attempts=4, backoff=Backoff(delay=5.0, jitter=0.2))
ORDERED_RETRY = RetryPolicy(attempts=6, backoff=Backoff(delay=0.5, max_delay=10.0, jitter=0.2))


def declared_retry(service: str, topology: Topology) -> RetryPolicy:
    """One attempt per retry tier `topology` (a project's: `settings.contracts().topology()`)
    declares for unordered `service`, plus the first; `UNORDERED_RETRY` for a service declared
    ordered."""
    declared = declared_retry_policy(topology.service(service))
    return declared or UNORDERED_RETRY


def unordered(
    retry: RetryPolicy = UNORDERED_RETRY,
    store: ProcessedEventStore | None = None,
    rate_limit: RateLimit | None = None,
) -> HandlerPolicy:
    """Events of one key run one at a time, but a failing one moves to the retry tiers and the
    key's later events pass it; `store` marks each one processed."""
    return HandlerPolicy(
        ordering=Ordering.UNORDERED,
        retry=retry,
        rate_limit=rate_limit,
        idempotency=Idempotency(store) if store is not None else None,
    )


def ordered(
    retry: RetryPolicy = ORDERED_RETRY,
    store: ProcessedEventStore | None = None,
    rate_limit: RateLimit | None = None,
) -> HandlerPolicy:
    """One key's events run in order; a failing key waits alone, then is parked."""
    return HandlerPolicy(
        ordering=Ordering.ORDERED,
        retry=retry,
        rate_limit=rate_limit,
        idempotency=Idempotency(store) if store is not None else None,
    )
