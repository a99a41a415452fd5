"""Which topics belong to a service: its inputs, retry tiers, dead letters and parked keys.

A service declared in the topology (`schemas/topics.yaml`) is taken from there; any other
consumer group is discovered from the broker: its inputs are the topics it has committed
offsets on, its retry tiers, dead letters and parked keys the topics named after it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from conveyor import naming
from conveyor.ops.broker import Broker
from conveyor.ops.errors import UnknownServiceError
from conveyor.ops.names import OPS_GROUP_PREFIX, redrive_topic


@dataclass(frozen=True)
class ServiceTopology:
    """One service's topics. Its consumer group is named after the service. `retry_topics` are
    its retry tiers, then `<service>.redrive` where that exists (a service without tiers)."""

    service: str
    inputs: tuple[str, ...]
    retry_topics: tuple[str, ...] = ()
    dead_letter_topic: str | None = None
    parked_topic: str | None = None
    lanes: tuple[tuple[str, str], ...] = ()  # (lane topic, `<topic>/<lane>`) of its inputs

    @property
    def group(self) -> str:
        return self.service

    @property
    def consumed(self) -> tuple[str, ...]:
        """Every topic the service's group reads: inputs, then retry tiers."""
        return self.inputs + self.retry_topics


def resolve(
    broker: Broker, service: str, declared: Mapping[str, ServiceTopology] | None = None
) -> ServiceTopology:
    """The service's topics, declared or discovered; `UnknownServiceError` when neither."""
    if declared and service in declared:
        return _existing(broker, declared[service])
    found = discover(broker, service)
    if found is None:
        raise UnknownServiceError(service, known_services(broker, declared))
    return found


def discover(broker: Broker, service: str) -> ServiceTopology | None:
    topics = broker.topics()
    tier = re.compile(rf"^{re.escape(service)}\.retry\.(\d+)$")
    tiers = sorted((int(m.group(1)), name) for name in topics if (m := tier.match(name)))
    retry = tuple(name for _, name in tiers) + _redrive_path(service, topics)
    dlq = naming.dead_letter_topic(service)
    parked = naming.parked_topic(service)
    committed_topics = {topic for topic, _ in broker.committed(service)}
    inputs = tuple(sorted(t for t in committed_topics if t in topics and t not in retry))
    found = ServiceTopology(
        service=service,
        inputs=inputs,
        retry_topics=retry,
        dead_letter_topic=dlq if dlq in topics else None,
        parked_topic=parked if parked in topics else None,
    )
    if not (inputs or retry or found.dead_letter_topic or found.parked_topic):
        return None if service not in broker.groups() else found
    return found


def known_services(
    broker: Broker, declared: Mapping[str, ServiceTopology] | None = None
) -> list[str]:
    """Declared services when there is a topology, else every consumer group but the
    commands' own."""
    if declared:
        return sorted(declared)
    return [g for g in broker.groups() if not g.startswith(OPS_GROUP_PREFIX)]


def _existing(broker: Broker, declared: ServiceTopology) -> ServiceTopology:
    """The declared topology, without topics that were never created on this broker."""
    topics = broker.topics()

    def present(name: str | None) -> str | None:
        return name if name in topics else None

    return ServiceTopology(
        service=declared.service,
        inputs=tuple(t for t in declared.inputs if t in topics),
        retry_topics=tuple(t for t in declared.retry_topics if t in topics)
        + _redrive_path(declared.service, topics),
        dead_letter_topic=present(declared.dead_letter_topic),
        parked_topic=present(declared.parked_topic),
        lanes=tuple((t, lane) for t, lane in declared.lanes if t in topics),
    )


def _redrive_path(service: str, topics: Mapping[str, int]) -> tuple[str, ...]:
    own = redrive_topic(service)
    return (own,) if own in topics else ()
