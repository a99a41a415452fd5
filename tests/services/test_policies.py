"""The reference services' policies: retry tiers come from the declared topology."""

from __future__ import annotations

from pathlib import Path

from conveyor.policies import Idempotency, declared_retry, ordered, unordered
from conveyor.ratelimit import RateLimit
from conveyor.runtime import Ordering
from integrations.store import processed_store
from tests.project import PROJECT


def test_unordered_services_retry_on_their_declared_tiers() -> None:
    """One attempt per tier of `schemas/topics.yaml`, each tier's delay as its backoff."""
    topology = PROJECT.topology()
    for name in ("welcome-email", "crm-sync", "order-email"):
        tiers = topology.service(name).retry_tiers
        policy = declared_retry(name, topology)
        assert policy.attempts == len(tiers) + 1
        assert policy.backoff.schedule == tuple(t.total_seconds() for t in tiers)


def test_idempotent_handlers_carry_their_store(tmp_path: Path) -> None:
    """`unordered(store=...)` asks the runtime to mark events processed in that store."""
    store = processed_store({}, tmp_path, "welcome-email")
    try:
        policy = unordered(store=store)
        assert policy.ordering is Ordering.UNORDERED
        assert policy.idempotency == Idempotency(store)
        assert (tmp_path / "welcome-email" / "processed.sqlite3").exists()
    finally:
        store.close()
    assert ordered().ordering is Ordering.ORDERED


def test_ordered_policies_carry_their_store_and_rate_limit(tmp_path: Path) -> None:
    """`ordered(store=..., rate_limit=...)` keeps key order and asks for both policies."""
    store = processed_store({}, tmp_path, "payments")
    try:
        policy = ordered(store=store, rate_limit=RateLimit(max=5, duration=1.0))
        assert policy.ordering is Ordering.ORDERED
        assert policy.idempotency == Idempotency(store)
        assert policy.rate_limit == RateLimit(max=5, duration=1.0)
    finally:
        store.close()
