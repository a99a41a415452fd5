"""The broker a run uses: the one KAFKA_BOOTSTRAP_SERVERS names, or a local node started here."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from conveyor.localkafka import KAFKA_VERSION, ClusterSpec, KafkaDistribution, LocalKafka
from conveyor.settings import Settings


@dataclass(frozen=True)
class BrokerInfo:
    bootstrap: str
    description: str


@contextmanager
def broker(settings: Settings, external: bool) -> Iterator[BrokerInfo]:
    """Use the configured cluster when `external`, else run a single local node for the run."""
    if external:
        yield BrokerInfo(settings.bootstrap_servers, "existing cluster (KAFKA_BOOTSTRAP_SERVERS)")
        return
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-kafka-") as home:
        distribution = KafkaDistribution(cache_dir=settings.cache_dir, java_home=settings.java_home)
        spec = ClusterSpec(nodes=1, port=_free_base_port())
        cluster = LocalKafka(Path(home), distribution, spec)
        cluster.up(timeout=120)
        try:
            yield BrokerInfo(
                cluster.bootstrap_servers,
                f"Apache Kafka {KAFKA_VERSION}, 1 local KRaft node started by the benchmark",
            )
        finally:
            cluster.down(wipe=True)


def _free_base_port() -> int:
    """A client port whose controller port (client + 100) is free as well."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 60000 and all(_bindable(p) for p in ClusterSpec(port=port).ports()):
            return port
    raise RuntimeError("no free port pair for the benchmark's broker")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Topics:
    """Creates, measures and deletes the run's topics."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap})

    def create(self, *names: str, partitions: int) -> None:
        new = [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
        for future in self.admin.create_topics(new, operation_timeout=30).values():
            future.result(timeout=30)

    def delete(self, *names: str) -> None:
        """Ask for deletion without waiting: a topic left behind costs disk, not correctness."""
        self.admin.delete_topics(list(names), operation_timeout=30)

    def message_count(self, topic: str) -> int:
        with _probe(self.bootstrap, "bench-probe") as consumer:
            return sum(high - low for low, high in _watermarks(consumer, topic))

    def committed(self, topic: str, group: str) -> int:
        """Events the group has committed on `topic` (sum of committed offsets)."""
        with _probe(self.bootstrap, group) as consumer:
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            wanted = [TopicPartition(topic, p) for p in partitions]
            return sum(max(tp.offset, 0) for tp in consumer.committed(wanted, timeout=10))


@contextmanager
def _probe(bootstrap: str, group: str) -> Iterator[Consumer]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        yield consumer
    finally:
        consumer.close()


def _watermarks(consumer: Consumer, topic: str) -> list[tuple[int, int]]:
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    return [
        consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions
    ]
