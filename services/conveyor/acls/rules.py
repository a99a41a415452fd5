"""Least privilege, derived from the topology: which principal may do what to which resource.

Pure values: `derive(topology)` is every ALLOW binding conveyor's principals need, nothing more.
Kafka lets READ and WRITE imply DESCRIBE (topics, groups, transactional ids), and WRITE on a topic
implies IDEMPOTENT_WRITE on the cluster (KIP-679), so neither is granted on its own.

- `User:<service>`, per service: read its input topics, its retry, redrive and parked topics, its
  own dead letters (recent ones are read back at start) and the replay windows; write its dead
  letters, retry tiers, parked keys and follow-up topics; its consumer group, and the groups
  `<service>.` its assign-only readers name (never joined); a transactional service also its
  transactional ids `<service>-<instance>`.
- `User:gateway` and `User:outbox-relay`: write the event topics, delayed events and their
  cancels, nothing else.
- `User:scheduler` (`conveyor run scheduler`): read delayed events and cancels in its group,
  deliver them to the event topics in transactions.
- `User:operator` (`status`, `replay`, `dlq`, `tail`, `pause`, `delayed`): read every declared
  topic, list groups, alter the services' group offsets, write pauses, redrives (retry tier 1,
  redrive and parked topics), the replay windows and the redrive ledgers, which it may create;
  its transactional ids.

Every service reads the pauses (`conveyor.control`); the deployment-wide topics declared among
the event topics (pauses, delayed events, cancels) are no publisher's to write at will.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from conveyor import naming
from conveyor.lanes.model import Lanes
from conveyor.ops.names import (
    OPS_GROUP_PREFIX,
    REPLAYS_TOPIC,
    redrive_transactional_id,
    redriven_topic,
)
from conveyor.ops.reader import READER_GROUP
from conveyor.topology.model import ServiceSpec, TopicRole, Topology

GATEWAY: Final = "gateway"
OUTBOX_RELAY: Final = "outbox-relay"
SCHEDULER: Final = "scheduler"
OPERATOR: Final = "operator"
DELAYS: Final = (naming.DELAY_TOPIC, naming.DELAY_CANCEL_TOPIC)
INFRASTRUCTURE: Final = frozenset({naming.CONTROL_TOPIC, *DELAYS})
CLUSTER: Final = "kafka-cluster"  # the one name Kafka gives the cluster resource


class Resource(StrEnum):
    TOPIC = "TOPIC"
    GROUP = "GROUP"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"
    CLUSTER = "BROKER"  # librdkafka's name for the cluster resource type


class Pattern(StrEnum):
    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


class Operation(StrEnum):
    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DESCRIBE = "DESCRIBE"


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW binding from any host: `principal` may `operation` on the resource."""

    principal: str  # "User:payments"
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation

    def __str__(self) -> str:
        pattern = "*" if self.pattern is Pattern.PREFIXED else ""
        return f"{self.principal} {self.operation} {self.resource} {self.name}{pattern}"


def user(name: str) -> str:
    return f"User:{name}"


def _grants(
    principal: str,
    resource: Resource,
    operation: Operation,
    names: Iterable[str | None],
    pattern: Pattern = Pattern.LITERAL,
) -> set[Grant]:
    return {Grant(principal, resource, n, pattern, operation) for n in names if n is not None}


def _with_lanes(topics: Iterable[str], lanes: Mapping[str, Lanes]) -> list[str]:
    """`topics`, each with its lanes' topics."""
    return [lane for t in topics for lane in (lanes[t].topics(t) if t in lanes else (t,))]


def service_grants(service: ServiceSpec, lanes: Mapping[str, Lanes] | None = None) -> set[Grant]:
    """`lanes`: the topology's, so that a service reads and writes every lane of its topics."""
    who = user(service.name)
    own = (service.dead_letter_topic, *service.retry_topics, service.parked_topic)
    consumes = _with_lanes(service.consumes, lanes or {})
    produces = _with_lanes(service.produces, lanes or {})
    reads = (*consumes, *own, service.redrive_topic, REPLAYS_TOPIC, naming.CONTROL_TOPIC)
    grants = _grants(who, Resource.TOPIC, Operation.READ, reads)
    grants |= _grants(who, Resource.TOPIC, Operation.WRITE, (*own, *produces))
    grants |= _grants(who, Resource.GROUP, Operation.READ, (service.group, READER_GROUP))
    # The assign-only readers' groups: `<service>.parked-loader.<id>`, `<service>-control`, ...
    prefixes = [f"{service.name}.", f"{service.name}-control"]
    grants |= _grants(who, Resource.GROUP, Operation.READ, prefixes, Pattern.PREFIXED)
    if service.transactional:
        ids = [f"{service.name}-"]
        grants |= _grants(who, Resource.TRANSACTIONAL_ID, Operation.WRITE, ids, Pattern.PREFIXED)
    return grants


def event_topics(topology: Topology) -> list[str]:
    """The topics events are published to, without the deployment-wide ones."""
    return [
        t.name
        for t in topology.topics
        if t.role in {TopicRole.EVENTS, TopicRole.LANE} and t.name not in INFRASTRUCTURE
    ]


def publisher_grants(name: str, topology: Topology) -> set[Grant]:
    return _grants(user(name), Resource.TOPIC, Operation.WRITE, [*event_topics(topology), *DELAYS])


def scheduler_grants(topology: Topology, name: str = SCHEDULER) -> set[Grant]:
    who = user(name)
    grants = _grants(who, Resource.TOPIC, Operation.READ, DELAYS)
    grants |= _grants(who, Resource.TOPIC, Operation.WRITE, event_topics(topology))
    group = [naming.SCHEDULER_GROUP]  # and its cancels reader's `conveyor-scheduler-cancels`
    grants |= _grants(who, Resource.GROUP, Operation.READ, group, Pattern.PREFIXED)
    ids = [f"{naming.SCHEDULER_GROUP}-"]
    return grants | _grants(who, Resource.TRANSACTIONAL_ID, Operation.WRITE, ids, Pattern.PREFIXED)


def operator_grants(topology: Topology, name: str = OPERATOR) -> set[Grant]:
    who = user(name)
    ledgers = [redriven_topic(s.name) for s in topology.services]
    redrive_targets = [
        s.redrive_topic or (s.retry_topics[0] if s.retry_topics else None)
        for s in topology.services
    ]
    parked = [s.parked_topic for s in topology.services]
    owned = [REPLAYS_TOPIC, *ledgers]
    writes = [*owned, *redrive_targets, *parked, naming.CONTROL_TOPIC]
    grants = _grants(who, Resource.TOPIC, Operation.READ, [t.name for t in topology.topics])
    grants |= _grants(who, Resource.TOPIC, Operation.READ, owned)
    grants |= _grants(who, Resource.TOPIC, Operation.WRITE, writes)
    grants |= _grants(who, Resource.TOPIC, Operation.CREATE, owned)
    groups = [*(s.group for s in topology.services), naming.SCHEDULER_GROUP]
    grants |= _grants(who, Resource.GROUP, Operation.READ, groups)
    grants |= _grants(who, Resource.GROUP, Operation.READ, [OPS_GROUP_PREFIX], Pattern.PREFIXED)
    redrive_ids = [redrive_transactional_id("")]
    ids = _grants(who, Resource.TRANSACTIONAL_ID, Operation.WRITE, redrive_ids, Pattern.PREFIXED)
    grants |= ids
    # Listing every group needs DESCRIBE on the cluster (else only the groups it may describe).
    grants |= _grants(who, Resource.CLUSTER, Operation.DESCRIBE, [CLUSTER])
    return grants


def derive(topology: Topology) -> frozenset[Grant]:
    """Every grant of every principal conveyor runs as."""
    grants: set[Grant] = set()
    for service in topology.services:
        grants |= service_grants(service, topology.lanes)
    for publisher in (GATEWAY, OUTBOX_RELAY):
        grants |= publisher_grants(publisher, topology)
    grants |= scheduler_grants(topology)
    grants |= operator_grants(topology)
    return frozenset(grants)


def principals(topology: Topology) -> list[str]:
    """The principals `derive` grants to, services first."""
    return [user(s.name) for s in topology.services] + [
        user(n) for n in (GATEWAY, OUTBOX_RELAY, SCHEDULER, OPERATOR)
    ]
