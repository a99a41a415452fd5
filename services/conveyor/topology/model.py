"""The declared topology: every topic with its settings, and every consumer service's topics.

Values, not files: `conveyor.topology.load` builds a `Topology` from `schemas/topics.yaml`, and
tests build or rename (`with_prefix`) one so that they never clash with other tests' topics.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum

from conveyor import naming
from conveyor.lanes.model import Lanes
from conveyor.ordering import Ordering


class TopicRole(StrEnum):
    EVENTS = "events"
    LANE = "lane"  # a lane of an event topic, other than its default lane (the topic itself)
    RETRY = "retry"
    DEAD_LETTER = "dead-letter"
    PARKED = "parked"
    REDRIVE = "redrive"


@dataclass(frozen=True)
class TopicSpec:
    """One topic as it should exist on the cluster."""

    name: str
    partitions: int
    replication_factor: int
    min_insync_replicas: int
    retention_ms: int  # -1: keep forever
    cleanup_policy: str  # "delete", "compact" or "compact,delete"
    role: TopicRole = TopicRole.EVENTS
    event_types: tuple[str, ...] = ()  # Avro full names it carries (event topics)
    service: str | None = None  # the service a derived (retry, dead-letter, ...) topic belongs to
    lanes: Lanes | None = None  # an event topic's lanes (on the topic itself, its default lane)

    def configs(self) -> dict[str, str]:
        """The broker configs conveyor manages on this topic (others are left alone)."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            "min.insync.replicas": str(self.min_insync_replicas),
        }


@dataclass(frozen=True)
class ServiceSpec:
    """A consumer-group service: what it reads and where its failures go."""

    name: str
    consumes: tuple[str, ...]
    ordering: Ordering
    retry_tiers: tuple[timedelta, ...] = ()  # delay of each retry topic, tier 1 first
    produces: tuple[str, ...] = ()  # event topics its handlers publish follow-ups to

    @property
    def transactional(self) -> bool:
        """A service that publishes follow-ups does so in transactions with its offsets."""
        return bool(self.produces)

    @property
    def group(self) -> str:
        return self.name

    @property
    def attempts(self) -> int | None:
        """Tries of an unordered handler: the first plus one per retry tier (None if ordered:
        an ordered service retries in place, as often as its retry policy says)."""
        return None if self.ordering is Ordering.ORDERED else len(self.retry_tiers) + 1

    @property
    def retry_topics(self) -> tuple[str, ...]:
        return tuple(naming.retry_topic(self.name, n) for n in range(1, len(self.retry_tiers) + 1))

    @property
    def dead_letter_topic(self) -> str:
        return naming.dead_letter_topic(self.name)

    @property
    def parked_topic(self) -> str | None:
        return naming.parked_topic(self.name) if self.ordering is Ordering.ORDERED else None

    @property
    def redrive_topic(self) -> str | None:
        """Where an ordered service receives redriven dead letters (unordered ones use their
        first retry tier)."""
        return naming.redrive_topic(self.name) if self.ordering is Ordering.ORDERED else None


@dataclass(frozen=True)
class Topology:
    """Every declared topic (event topics and the ones derived for services) and service."""

    topics: tuple[TopicSpec, ...]
    services: tuple[ServiceSpec, ...] = field(default=())

    def topic(self, name: str) -> TopicSpec:
        for topic in self.topics:
            if topic.name == name:
                return topic
        raise KeyError(name)

    @property
    def lanes(self) -> dict[str, Lanes]:
        """The lanes of each event topic that has them, by topic name."""
        return {t.name: t.lanes for t in self.topics if t.lanes is not None}

    def service(self, name: str) -> ServiceSpec:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def with_prefix(self, prefix: str) -> Topology:
        """The same topology with every topic and service name prefixed (derived names stay
        consistent: `p-welcome-email.dlq`), so tests can apply it beside other tests."""
        return Topology(
            topics=tuple(
                replace(
                    t,
                    name=prefix + t.name,
                    service=None if t.service is None else prefix + t.service,
                )
                for t in self.topics
            ),
            services=tuple(
                replace(
                    s,
                    name=prefix + s.name,
                    consumes=tuple(prefix + c for c in s.consumes),
                    produces=tuple(prefix + p for p in s.produces),
                )
                for s in self.services
            ),
        )
