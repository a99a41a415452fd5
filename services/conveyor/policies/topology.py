"""The side topics a service's policies write to and read from, for the topology to declare."""

from __future__ import annotations

from conveyor import naming
from conveyor.ordering import Ordering
from conveyor.parking import PARKED_TOPIC_CONFIG
from conveyor.retry import RetryPolicy, tier_topics
from conveyor.runtime.service import Service
from conveyor.topology.model import ServiceSpec, Topology


def side_topics(
    service: Service, default_retry: RetryPolicy | None = None
) -> dict[str, dict[str, str]]:
    """Topic name -> topic config: `<service>.dlq` always, `<service>.parked` (compacted) and
    `<service>.redrive` when a handler is ordered, and `<service>.retry.<n>` for the longest
    unordered retry policy."""
    fallback = default_retry or RetryPolicy()
    topics: dict[str, dict[str, str]] = {naming.dead_letter_topic(service.name): {}}
    for registration in service.registrations.values():
        policy = registration.policy
        if policy.ordering is Ordering.ORDERED:
            topics[naming.parked_topic(service.name)] = dict(PARKED_TOPIC_CONFIG)
            topics[naming.redrive_topic(service.name)] = {}
            continue
        retry = policy.retry if policy.retry is not None else fallback
        topics.update({name: {} for name in tier_topics(service.name, retry)})
    return topics


def declared_retry_policy(spec: ServiceSpec) -> RetryPolicy | None:
    """The retry policy an unordered service's declared `retry_tiers` imply; None for an ordered
    service (it retries in place as its handlers' policies say)."""
    if spec.attempts is None:
        return None
    return RetryPolicy.from_tiers(spec.retry_tiers)


def undeclared_side_topics(service: Service, topology: Topology) -> list[str]:
    """Side topics the service's policies need that the topology does not declare."""
    declared = {topic.name for topic in topology.topics}
    return sorted(set(side_topics(service)) - declared)
