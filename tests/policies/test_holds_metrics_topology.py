"""The runtime's hold-back of items, policy metrics and the side-topic list, without a broker."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from conveyor.policies import (
    PolicyConfigError,
    PolicySettings,
    declared_retry_policy,
    side_topics,
    undeclared_side_topics,
)
from conveyor.policies.metrics import PolicyMetrics
from conveyor.retry import RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from conveyor.runtime.context import EventMeta
from conveyor.runtime.holds import Holds
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.work import PartitionState, WorkItem
from tests.project import PROJECT
from tests.runtime.support import Ping


def _item(state: PartitionState, offset: int, key: str) -> WorkItem:
    meta = EventMeta(state.topic, state.partition, offset, 1_700_000_000_000, key, [])
    return WorkItem(state, offset, key.encode(), None, b"", None, meta=meta)


def test_a_held_item_holds_its_partition_behind_it_and_is_released_when_due() -> None:
    """Items behind a held one wait in order; other partitions flow; release comes when due."""
    due = {("p0", 1): 10.0}

    def admit(item: WorkItem, now: float) -> float:
        return max(0.0, due.get((item.meta.topic, item.offset), 0.0) - now)

    holds = Holds(admit)
    p0, p1 = PartitionState("p0", 0), PartitionState("p1", 0)
    items = [_item(p0, 0, "a"), _item(p0, 1, "b"), _item(p1, 0, "c"), _item(p0, 2, "d")]
    ready = holds.filter(items, now=0.0)
    assert [(i.meta.topic, i.offset) for i in ready] == [("p0", 0), ("p1", 0)]
    assert p0.held
    assert not p1.held
    assert holds.release(now=5.0) == []
    released = holds.release(now=10.0)
    assert [(i.meta.topic, i.offset) for i in released] == [("p0", 1), ("p0", 2)]
    assert (p0.held, holds.held()) == (False, 0)


def test_held_items_of_a_revoked_partition_are_dropped() -> None:
    """A partition that went away releases nothing, and stops being held."""
    holds = Holds(lambda item, now: 100.0)
    state = PartitionState("p", 0)
    holds.filter([_item(state, 0, "a")], now=0.0)
    state.active = False
    assert holds.release(now=1000.0) == []
    assert holds.held() == 0


def test_retry_tier_depth_is_derived_from_the_lag_of_the_tier_topics() -> None:
    """conveyor_retry_tier_depth sums each tier's partition lag; other topics don't count."""
    runtime = RuntimeMetrics("crm-sync")
    policy = PolicyMetrics(runtime)
    runtime.lag.labels("crm-sync", "crm-sync.retry.1", "0").set(3)
    runtime.lag.labels("crm-sync", "crm-sync.retry.1", "1").set(4)
    runtime.lag.labels("crm-sync", "user.signup", "0").set(100)
    policy.breaker_open.set(1)
    text = generate_latest(runtime.registry).decode()
    assert 'conveyor_retry_tier_depth{service="crm-sync",tier="1"} 7.0' in text
    assert 'conveyor_dead_letter_breaker_open{service="crm-sync"} 1.0' in text
    for name in (
        "conveyor_events_retried",
        "conveyor_events_dead_lettered",
        "conveyor_parked_keys",
    ):
        assert name in text


def test_side_topics_list_what_the_policies_use() -> None:
    """Ordered handlers need the parked and redrive topics; unordered ones a tier per retry."""
    service = Service("mixed")

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED))
    def ordered(event: Ping, ctx: Context) -> None: ...

    other = Service("emails")

    @other.handler(
        Ping, policy=HandlerPolicy(ordering=Ordering.UNORDERED, retry=RetryPolicy(attempts=3))
    )
    def unordered(event: Ping, ctx: Context) -> None: ...

    assert side_topics(service) == {
        "mixed.dlq": {},
        "mixed.parked": {"cleanup.policy": "compact"},
        "mixed.redrive": {},
    }
    assert side_topics(other) == {"emails.dlq": {}, "emails.retry.1": {}, "emails.retry.2": {}}


def test_the_declared_topology_gives_the_retry_policy_and_every_side_topic() -> None:
    """welcome-email's tiers become its retry schedule; payments' side topics are all declared."""

    topology = PROJECT.topology()
    policy = declared_retry_policy(topology.service("welcome-email"))
    assert policy is not None
    assert policy.attempts == 4
    assert policy.backoff.schedule == (10.0, 60.0, 600.0)
    assert declared_retry_policy(topology.service("payments")) is None

    payments = Service("payments")

    @payments.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED))
    def charge(event: Ping, ctx: Context) -> None: ...

    assert undeclared_side_topics(payments, topology) == []
    assert undeclared_side_topics(Service("nobody"), topology) == ["nobody.dlq"]


def test_policy_settings_are_read_from_the_environment_once() -> None:
    """Defaults when unset, the variables when set, a typed error when malformed."""
    assert PolicySettings.from_env({}).default_retry.attempts == 3
    settings = PolicySettings.from_env(
        {"CONVEYOR_RETRY_ATTEMPTS": "5", "CONVEYOR_BREAKER_MAX_CONSECUTIVE": "7"}
    )
    assert settings.default_retry.attempts == 5
    assert settings.breaker.max_consecutive == 7
    with pytest.raises(PolicyConfigError):
        PolicySettings.from_env({"CONVEYOR_RETRY_ATTEMPTS": "many"})
