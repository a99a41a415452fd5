"""Delayed events through a SIGKILL of a broker node (3 nodes, RF 3, min ISR 2): every event
arrives once, none before its time."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from confluent_kafka.admin import AdminClient

from conveyor.localkafka import LocalKafka
from tests.conftest import create_topic
from tests.delay.support import DelayTopics, read_arrivals, scheduler_thread, signup

pytestmark = [pytest.mark.kafka, pytest.mark.cluster, pytest.mark.timeout(240)]


@pytest.fixture
def cluster(kafka_cluster: LocalKafka) -> Iterator[LocalKafka]:
    """The session's cluster, with every node brought back up after the test."""
    yield kafka_cluster
    kafka_cluster.up(timeout=120)


def _replicated(bootstrap: str, name: str, partitions: int, **config: str) -> str:
    settings = {"min.insync.replicas": "2", **config}
    return create_topic(bootstrap, name, partitions, replication=3, config=settings)


def test_delayed_events_survive_a_killed_broker_node_once_each(cluster: LocalKafka) -> None:
    """SIGKILL of the node leading a delay-topic partition mid-stream: all 200 events arrive
    exactly once (read_committed), none before its due time."""
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
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topics.delay)
        cluster.node(metadata.topics[topics.delay].partitions[0].leader).kill()
        arrivals = read_arrivals(bootstrap, topics.destination, 200, timeout=120, settle=3)
    counts = Counter(a.event_id for a in arrivals)
    assert set(counts) == set(due)
    assert max(counts.values()) == 1
    assert all(a.timestamp_ms >= due[a.event_id] - 1_000 for a in arrivals)
