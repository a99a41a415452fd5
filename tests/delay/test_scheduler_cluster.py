"""Delayed events through a SIGKILL of a broker node (3 nodes, RF 3, min ISR 2): every event
arrives once, none before its time."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from confluent_kafka.admin import AdminClient

from conveyor.localkafka import LocalKafka
from tests.conftest import create_topic
from tests.delay.support import DelayTopics, read_arrivals, scheduler_thread, signup

pytestmark = [pytest.mark.kafka, pytest.mark.cluster, pytest.mark.timeout(300)]


@pytest.fixture
def cluster(kafka_cluster: LocalKafka) -> Iterator[LocalKafka]:
    """The session's cluster, with every node brought back up after the test."""
    yield kafka_cluster
    kafka_cluster.up(timeout=120)


def _replicated(bootstrap: str, name: str, partitions: int, **config: str) -> str:
    settings = {"min.insync.replicas": "2", **config}
    return create_topic(bootstrap, name, partitions, replication=3, config=settings)


def _delay_partition_leader(admin: AdminClient, topics: DelayTopics) -> int:
    return int(admin.list_topics(topics.delay).topics[topics.delay].partitions[0].leader)


def _group_coordinator(admin: AdminClient, topics: DelayTopics) -> int:
    """The node coordinating the scheduler's group: librdkafka can wait on it past its timeouts
    once it has left the cluster (the scheduler then replaces its stuck producer)."""
    description = admin.describe_consumer_groups([topics.group])[topics.group].result(30)
    return int(description.coordinator.id)


@pytest.mark.parametrize("victim", [_delay_partition_leader, _group_coordinator])
def test_delayed_events_survive_a_killed_broker_node_once_each(
    cluster: LocalKafka, victim: Callable[[AdminClient, DelayTopics], int]
) -> None:
    """SIGKILL mid-stream of the node leading a delay-topic partition, or of the node
    coordinating the scheduler's group: all 200 events arrive exactly once (read_committed),
    none before its due time."""
    bootstrap = cluster.bootstrap_servers
    suffix = uuid.uuid4().hex[:8]
    topics = DelayTopics(
        bootstrap=bootstrap,
        delay=_replicated(bootstrap, f"t-delayed-{suffix}", 3),
        cancel=_replicated(bootstrap, f"t-cancel-{suffix}", 1, **{"cleanup.policy": "compact"}),
        destination=_replicated(bootstrap, f"t-dest-{suffix}", 3),
        group=f"scheduler-{suffix}",
    )
    due: dict[str, int] = {}
    with topics.publisher() as publisher, scheduler_thread(topics.settings()):
        for n in range(200):
            event = signup(f"k-{n % 10}")
            delay_ms = (n * 53) % 8_000
            due[str(event.event_id)] = int(time.time() * 1000) + delay_ms
            publisher.publish(event, delay=timedelta(milliseconds=delay_ms))
        assert publisher.flush(30) == 0
        read_arrivals(bootstrap, topics.destination, 60, timeout=60)
        cluster.node(victim(AdminClient({"bootstrap.servers": bootstrap}), topics)).kill()
        arrivals = read_arrivals(bootstrap, topics.destination, 200, timeout=120, settle=3)
    counts = Counter(a.event_id for a in arrivals)
    assert set(counts) == set(due)
    assert max(counts.values()) == 1
    assert all(a.timestamp_ms >= due[a.event_id] - 1_000 for a in arrivals)
