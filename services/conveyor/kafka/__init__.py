"""Deprecated: the local broker launcher is `conveyor.localkafka` (this name read as a client)."""

import warnings

from conveyor.localkafka import (
    CONTROLLER_PORT_OFFSET,
    KAFKA_VERSION,
    ClusterSpec,
    KafkaDistribution,
    LocalKafka,
    NodeHandle,
    NodeStatus,
)

warnings.warn(
    "conveyor.kafka is deprecated: import the local broker launcher from conveyor.localkafka",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "CONTROLLER_PORT_OFFSET",
    "KAFKA_VERSION",
    "ClusterSpec",
    "KafkaDistribution",
    "LocalKafka",
    "NodeHandle",
    "NodeStatus",
]
