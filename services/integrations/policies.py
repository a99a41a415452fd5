"""The retry, idempotency and rate-limit policies of the reference services, as values.

Unordered services move a failed event through the retry tiers `schemas/topics.yaml` declares for
them (`<service>.retry.<n>`, each with its delay), then to the dead letters; `main` reads them
with `declared_retry`. Ordered services retry in place, only the failing key waiting, then
dead-letter and park the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conveyor.idempotency import ProcessedEventStore, open_store
from conveyor.policies import Idempotency
from conveyor.policies.topology import declared_retry_policy
from conveyor.ratelimit import RateLimit
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import HandlerPolicy, Ordering
from conveyor.topology import Topology, load

# Until `main` passes the declared tiers (unit tests): three tiers, 5, 10 and 20 s.
UNORDERED_RETRY = RetryPolicy(attempts=4, backoff=Backoff(delay=5.0, jitter=0.2))
# A reservation older than this is taken to be left by a killed process and is reclaimed; sending
# one e-mail takes well under a second. It must be shorter than the retry tiers' total wait, or
# an event in flight at a crash would run out of attempts meanwhile.
STALE_AFTER = 20.0
ORDERED_RETRY = RetryPolicy(attempts=6, backoff=Backoff(delay=0.5, max_delay=10.0, jitter=0.2))


def declared_retry(service: str, topology: Topology | None = None) -> RetryPolicy:
    """One attempt per retry tier the topology declares for unordered `service`, plus the
    first; the default policy for a service declared ordered."""
    declared = declared_retry_policy((topology or load()).service(service))
    return declared or UNORDERED_RETRY


def unordered(
    retry: RetryPolicy = UNORDERED_RETRY,
    store: ProcessedEventStore | None = None,
    rate_limit: RateLimit | None = None,
) -> HandlerPolicy:
    return HandlerPolicy(
        ordering=Ordering.UNORDERED,
        retry=retry,
        rate_limit=rate_limit,
        idempotency=Idempotency(store) if store is not None else None,
    )


def ordered() -> HandlerPolicy:
    return HandlerPolicy(ordering=Ordering.ORDERED, retry=ORDERED_RETRY)


def processed_store(env: Mapping[str, str], state_dir: Path, service: str) -> ProcessedEventStore:
    """`CONVEYOR_IDEMPOTENCY_URL` (`sqlite:///...` or `postgresql://...`), else a SQLite file
    `<state dir>/<service>/processed.sqlite3`."""
    url = env.get("CONVEYOR_IDEMPOTENCY_URL")
    if not url:
        path = state_dir / service / "processed.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    return open_store(url, stale_after=STALE_AFTER)
