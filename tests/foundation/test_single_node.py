"""A single local node carries keyed traffic end to end."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from conveyor.localkafka import ClusterSpec, KafkaDistribution, LocalKafka
from conveyor.localkafka.config import new_cluster_id
from conveyor.settings import Settings
from tests.conftest import TopicFactory, free_base_port
from tests.messages import key_of, value_of
from tests.reading import read_to_end

pytestmark = pytest.mark.kafka


def test_every_keyed_message_arrives_in_partition_order(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Thousands of keyed messages all arrive once, each partition in produce order per key."""
    topic = new_topic(partitions=3)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    sent = 3000
    for i in range(sent):
        producer.produce(topic, key=f"user-{i % 50}", value=str(i).encode())
    assert producer.flush(30) == 0

    messages = read_to_end(kafka_bootstrap, topic, timeout=10)  # a stall of 10 s fails
    by_key: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, set[int]] = defaultdict(set)
    received = 0
    for msg in messages:
        assert msg.error() is None
        key = key_of(msg).decode()
        by_key[key].append(int(value_of(msg)))
        partition = msg.partition()
        assert partition is not None
        partition_of[key].add(partition)
        received += 1

    assert received == sent
    assert all(len(parts) == 1 for parts in partition_of.values())
    assert all(values == sorted(values) for values in by_key.values())
    assert sorted(v for values in by_key.values() for v in values) == list(range(sent))


def test_a_cluster_id_that_starts_with_a_dash_formats_and_starts(tmp_path: Path) -> None:
    """One random cluster id in 64 starts with '-': the storage tool must not read it as an
    option."""
    settings = Settings.from_env(os.environ)
    distribution = KafkaDistribution(cache_dir=settings.cache_dir, java_home=settings.java_home)
    cluster = LocalKafka(tmp_path, distribution, ClusterSpec(nodes=1, port=free_base_port(1)))
    cluster.cluster_id = "-" + new_cluster_id()[1:]
    try:
        bootstrap = cluster.up(timeout=120)
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30)
        assert metadata.cluster_id == cluster.cluster_id
    finally:
        cluster.down()
