"""The topic topology: declared in a project's file (`schemas/topics.yaml`), planned against a
cluster, applied.

`load()` reads the file (optionally with a profile's overrides), `plan()` compares it with what
a cluster has, and `TopologyAdmin` reads the cluster and carries a plan out.
"""

from conveyor.ordering import Ordering
from conveyor.topology.admin import TopologyAdmin
from conveyor.topology.apply import apply
from conveyor.topology.errors import (
    ClusterError,
    TopologyError,
    TopologyFileError,
    UnsafeChangeError,
)
from conveyor.topology.loader import KnownEvents, load, parse
from conveyor.topology.model import ServiceSpec, TopicRole, TopicSpec, Topology
from conveyor.topology.plan import ActualTopic, Change, ChangeKind, Plan, Refusal, plan

__all__ = [
    "ActualTopic",
    "Change",
    "ChangeKind",
    "ClusterError",
    "KnownEvents",
    "Ordering",
    "Plan",
    "Refusal",
    "ServiceSpec",
    "TopicRole",
    "TopicSpec",
    "Topology",
    "TopologyAdmin",
    "TopologyError",
    "TopologyFileError",
    "UnsafeChangeError",
    "apply",
    "load",
    "parse",
    "plan",
]
