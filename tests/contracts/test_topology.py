"""schemas/topics.yaml declares DESIGN.md's topics and services; plans compare it with a cluster."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml

from conveyor import naming, runtime
from conveyor.topology import (
    ActualTopic,
    ChangeKind,
    ClusterError,
    Ordering,
    TopicRole,
    TopicSpec,
    Topology,
    TopologyAdmin,
    TopologyFileError,
    parse,
    plan,
)
from conveyor.topology.loader import merge
from shop_events import event_types_of
from tests.project import PROJECT, TOPOLOGY_FILE

ORDERED = {"payments", "inventory", "fulfillment"}
UNORDERED = {"welcome-email", "analytics", "crm-sync", "order-email"}


@pytest.fixture(scope="module")
def topology() -> Topology:
    return PROJECT.topology()


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded = yaml.safe_load(TOPOLOGY_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_event_topics_carry_their_models_events(topology: Topology) -> None:
    """Each event topic lists exactly the event types whose models travel on it."""
    for name in ("user.signup", "order.events"):
        declared = topology.topic(name).event_types
        assert declared == tuple(m.AVRO_NAME for m in event_types_of(name))


def test_services_are_the_designed_ones(topology: Topology) -> None:
    """Every service of DESIGN.md, with its ordering and consumed topics."""
    services = {s.name: s for s in topology.services}

    assert set(services) == ORDERED | UNORDERED
    assert {n for n, s in services.items() if s.ordering is Ordering.ORDERED} == ORDERED
    assert services["analytics"].consumes == ("user.signup", "order.events")
    assert services["payments"].consumes == ("order.events",)


def test_a_declared_ordering_is_the_handler_policys_ordering(topology: Topology) -> None:
    """Topology and handler policies share one `Ordering`: a declared value is a policy's."""
    payments = next(s for s in topology.services if s.name == "payments")

    assert Ordering is runtime.Ordering
    assert runtime.HandlerPolicy(ordering=payments.ordering).ordering is runtime.Ordering.ORDERED


def test_unordered_services_have_retry_tiers_and_dead_letters(topology: Topology) -> None:
    """An unordered service gets one `<service>.retry.<n>` per tier and a `<service>.dlq`."""
    for name in UNORDERED:
        service = topology.service(name)
        assert len(service.retry_tiers) == 3
        assert list(service.retry_tiers) == sorted(service.retry_tiers)
        for tier in range(1, 4):
            assert topology.topic(naming.retry_topic(name, tier)).role is TopicRole.RETRY
        assert topology.topic(naming.dead_letter_topic(name)).role is TopicRole.DEAD_LETTER
        assert service.parked_topic is None
    assert topology.service("welcome-email").retry_tiers[0] == timedelta(seconds=10)


def test_ordered_services_park_keys_in_a_compacted_topic(topology: Topology) -> None:
    """An ordered service has no retry topics, a dead-letter topic and a compacted parked topic."""
    names = {t.name for t in topology.topics}
    for name in ORDERED:
        parked = topology.topic(naming.parked_topic(name))
        assert parked.cleanup_policy == "compact"
        assert naming.dead_letter_topic(name) in names
        assert not any(n.startswith(f"{name}.retry.") for n in names)


def test_derived_topics_are_as_wide_as_what_the_service_reads(topology: Topology) -> None:
    """Retry and dead-letter topics keep the partition count of the widest consumed topic."""
    assert (
        topology.topic("welcome-email.dlq").partitions == topology.topic("user.signup").partitions
    )
    assert (
        topology.topic("analytics.retry.1").partitions == topology.topic("order.events").partitions
    )


def test_dev_defaults_fit_one_broker(topology: Topology) -> None:
    """Without a profile every topic has replication 1 and min ISR 1."""
    assert {(t.replication_factor, t.min_insync_replicas) for t in topology.topics} == {(1, 1)}


def test_production_profile_overrides_only_what_it_states(topology: Topology) -> None:
    """--profile production: RF 3 and min ISR 2 everywhere; other settings stay as declared."""
    production = PROJECT.topology("production")

    assert {(t.replication_factor, t.min_insync_replicas) for t in production.topics} == {(3, 2)}
    assert [t.name for t in production.topics] == [t.name for t in topology.topics]
    assert [t.partitions for t in production.topics] == [t.partitions for t in topology.topics]
    assert (
        production.topic("user.signup").retention_ms == topology.topic("user.signup").retention_ms
    )
    assert production.topic("order.events").retention_ms == 30 * 86_400_000


def test_with_prefix_renames_topics_and_services_consistently(topology: Topology) -> None:
    """A prefixed copy keeps derived names consistent with conveyor.naming."""
    prefixed = topology.with_prefix("t-1-")

    service = prefixed.service("t-1-payments")
    assert service.consumes == ("t-1-order.events",)
    assert prefixed.topic(service.dead_letter_topic).service == "t-1-payments"
    assert {t.name for t in prefixed.topics} == {f"t-1-{t.name}" for t in topology.topics}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"profiles": None}, "no profile 'production'"),
        ({"defaults": {"min_insync_replicas": 2}}, "above its replication factor 1"),
        ({"services": {"payments": {"retry_tiers": ["1s"]}}}, "ordered: it retries in place"),
        ({"services": {"payments": {"consumes": ["nope"]}}}, "consumes undeclared"),
        ({"topics": {"user.signup": {"events": ["conveyor.events.OrderPaid"]}}}, "travels on"),
        ({"topics": {"user.signup": {"events": ["x.Nope"]}}}, "which no schema of the project"),
        ({"retry_topics": {"retention": "a week"}}, "not a duration"),
        ({"topics": {"user.signup": {"partitions": 0}}}, "greater than or equal to 1"),
        ({"topics": {"user.signup": {"key": "email"}}}, "keyed by email, but .* by user_id"),
    ],
    ids=[
        "profile",
        "min-isr",
        "ordered-tiers",
        "consumes",
        "wrong-topic",
        "event",
        "duration",
        "zero",
        "key",
    ],
)
def test_inconsistent_topology_is_refused_with_the_reason(
    document: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    """Mistakes in the file are found when it is read, each with a plain reason."""
    broken = merge(document, change)
    profile = "production" if "profiles" in change else None

    with pytest.raises(TopologyFileError, match=message):
        parse(broken, profile=profile, events=PROJECT.catalogue.bindings())


def spec(name: str = "t", partitions: int = 3, rf: int = 1, retention: int = 1000) -> TopicSpec:
    return TopicSpec(name, partitions, rf, 1, retention, "delete")


def actual(name: str = "t", partitions: int = 3, rf: int = 1, retention: int = 1000) -> ActualTopic:
    configs = {
        "cleanup.policy": "delete",
        "retention.ms": str(retention),
        "min.insync.replicas": "1",
    }
    return ActualTopic(name, partitions, rf, configs)


def test_plan_creates_missing_topics() -> None:
    """A declared topic the cluster lacks is created."""
    planned = plan(Topology((spec(),)), {}, brokers=1)

    assert [c.kind for c in planned.changes] == [ChangeKind.CREATE]


def test_plan_of_a_matching_cluster_is_empty() -> None:
    """Nothing to do when the cluster already matches."""
    planned = plan(Topology((spec(),)), {"t": actual()}, brokers=1)

    assert planned.is_empty
    assert planned.unchanged == ("t",)


def test_plan_adds_partitions_and_changes_configs() -> None:
    """More partitions and a changed retention are done in place."""
    planned = plan(Topology((spec(partitions=6, retention=2000),)), {"t": actual()}, brokers=1)

    assert [c.kind for c in planned.changes] == [
        ChangeKind.ADD_PARTITIONS,
        ChangeKind.ALTER_CONFIGS,
    ]
    assert planned.changes[1].configs == {"retention.ms": ("1000", "2000")}
    assert "partitions 3 -> 6" in str(planned.changes[0])


@pytest.mark.parametrize(
    ("declared", "found", "reason"),
    [
        (spec(partitions=2), actual(partitions=3), "Kafka cannot remove partitions"),
        (spec(rf=2), actual(rf=1), "needs a partition reassignment"),
        (spec(rf=3), None, "the cluster has 2"),
    ],
    ids=["fewer-partitions", "replication-change", "more-replicas-than-brokers"],
)
def test_plan_refuses_what_kafka_cannot_do_in_place(
    declared: TopicSpec, found: ActualTopic | None, reason: str
) -> None:
    """Impossible or dangerous changes become refusals with the reason, never changes."""
    planned = plan(Topology((declared,)), {"t": found} if found else {}, brokers=2)

    assert planned.changes == ()
    assert len(planned.refusals) == 1
    assert reason in planned.refusals[0].reason


def test_unreachable_cluster_is_a_typed_error_after_the_timeout() -> None:
    """No broker at the address: ClusterError within the timeout, not a hang."""
    with pytest.raises(ClusterError, match="did not answer within 1s"):
        TopologyAdmin("127.0.0.1:1", timeout=1).brokers()
