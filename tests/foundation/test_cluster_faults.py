"""A 3-node cluster (RF 3, min ISR 2) keeps every acknowledged message through broker failures."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import KafkaError, Message, Producer

from conveyor.localkafka import LocalKafka
from tests.conftest import create_topic, partition_leader
from tests.messages import value_of
from tests.reading import read_to_end

pytestmark = [pytest.mark.kafka, pytest.mark.cluster]


def test_acknowledged_messages_survive_sigkill_of_the_leader(cluster: LocalKafka) -> None:
    """SIGKILL of the partition leader mid-stream loses no acknowledged message and dups none."""
    bootstrap = cluster.bootstrap_servers
    topic = create_topic(
        bootstrap, f"t-faults-{uuid.uuid4().hex[:8]}", partitions=1, replication=3,
        config={"min.insync.replicas": "2"},
    )  # fmt: skip
    acked: list[int] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            acked.append(int(value_of(msg)))

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "message.timeout.ms": 60000,
        }
    )
    total = 6000
    for i in range(total):
        producer.produce(topic, key=b"k", value=str(i).encode(), on_delivery=on_delivery)
        producer.poll(0)
        if i == total // 3:
            producer.flush(30)
            cluster.node(partition_leader(bootstrap, topic)).kill()
    assert producer.flush(90) == 0

    read = [int(value_of(m)) for m in read_to_end(bootstrap, topic)]
    assert len(acked) == total
    assert len(read) == len(set(read)), "a message was written twice"
    assert set(acked) <= set(read)
    assert read == sorted(read), "order within the partition changed"


def test_produce_is_not_acknowledged_with_two_nodes_down(cluster: LocalKafka) -> None:
    """With two of three nodes down, min ISR 2 cannot hold, so an acks=all produce fails."""
    bootstrap = cluster.bootstrap_servers
    topic = create_topic(
        bootstrap, f"t-isr-{uuid.uuid4().hex[:8]}", partitions=1, replication=3,
        config={"min.insync.replicas": "2"},
    )  # fmt: skip
    survivor = partition_leader(bootstrap, topic)
    for node_id in cluster.spec.node_ids():
        if node_id != survivor:
            cluster.node(node_id).kill()

    errors: list[KafkaError | None] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.timeout.ms": 4000})
    producer.produce(topic, value=b"lonely", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(20)
    assert len(errors) == 1
    assert errors[0] is not None, "a produce was acknowledged without its in-sync replicas"
