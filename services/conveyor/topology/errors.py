"""Errors of reading the topology and applying it to a cluster."""

from conveyor.errors import ConveyorError


class TopologyError(ConveyorError):
    """Root of the topology's errors."""


class TopologyFileError(TopologyError):
    """`topics.yaml` is missing, malformed, or declares something inconsistent."""


class UnsafeChangeError(TopologyError):
    """Applying would need a change Kafka cannot make in place (fewer partitions, another
    replication factor) or the cluster cannot hold (more replicas than brokers). Nothing was
    changed."""


class ClusterError(TopologyError):
    """The cluster did not answer, or refused a change it was asked to make."""
