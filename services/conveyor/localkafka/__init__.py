"""A real Apache Kafka (KRaft) on loopback, fetched from Maven Central and run with `java`."""

from conveyor.localkafka.cluster import LocalKafka, NodeHandle, NodeStatus
from conveyor.localkafka.config import CONTROLLER_PORT_OFFSET, ClusterSpec
from conveyor.localkafka.distribution import KAFKA_VERSION, KafkaDistribution

__all__ = [
    "CONTROLLER_PORT_OFFSET",
    "KAFKA_VERSION",
    "ClusterSpec",
    "KafkaDistribution",
    "LocalKafka",
    "NodeHandle",
    "NodeStatus",
]
