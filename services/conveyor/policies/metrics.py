"""Prometheus metrics of the retry, dead-letter, parking, breaker and rate-limit policies.

Registered in the runtime's registry, so `/metrics` serves them beside the runtime's own.
Retry-tier depth is derived from the runtime's lag gauge of the tier topics.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from conveyor.retry import tier_of
from conveyor.runtime.metrics import RuntimeMetrics


class PolicyMetrics:
    """Names are contracts for dashboards, like the runtime's."""

    def __init__(self, runtime: RuntimeMetrics) -> None:
        registry = runtime.registry
        self.service = runtime.service
        self.retried = Counter(
            "conveyor_events_retried",
            "Failed attempts scheduled for another try (in place or through a retry tier).",
            ["service", "event_type", "mode"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "conveyor_events_dead_lettered",
            "Events written to the dead letters, by why.",
            ["service", "reason"],
            registry=registry,
        )
        self.parked_keys = Gauge(
            "conveyor_parked_keys",
            "Keys parked on this process's partitions.",
            ["service"],
            registry=registry,
        ).labels(self.service)
        self.breaker_open = Gauge(
            "conveyor_dead_letter_breaker_open",
            "1 while the dead-letter circuit breaker is open (the service is not ready).",
            ["service"],
            registry=registry,
        ).labels(self.service)
        self.rate_limited = Counter(
            "conveyor_rate_limited",
            "Times a partition was paused because a handler reached its rate limit.",
            ["service", "event_type"],
            registry=registry,
        )
        self.rate_limit_share = Gauge(
            "conveyor_rate_limit_share",
            "Events per second this member may let through under the handler's rate limit "
            "(its share of a service-wide limit, by the partitions it owns).",
            ["service", "event_type"],
            registry=registry,
        )
        self.idempotent_skips = Counter(
            "conveyor_idempotent_skips",
            "Redelivered events whose side effect was already done.",
            ["service", "event_type"],
            registry=registry,
        )
        self.reclaimed = Counter(
            "conveyor_idempotency_reclaimed",
            "Stale reservations taken over (a previous attempt died mid side effect).",
            ["service", "event_type"],
            registry=registry,
        )
        registry.register(_TierDepth(runtime))


class _TierDepth(Collector):
    """`conveyor_retry_tier_depth{service, tier}`: events waiting in each retry tier."""

    def __init__(self, runtime: RuntimeMetrics) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "conveyor_retry_tier_depth",
            "Events in a retry tier this service has still to handle (its lag).",
            labels=["service", "tier"],
        )
        depth: dict[int, float] = {}
        for metric in self._runtime.lag.collect():
            for sample in metric.samples:
                tier = tier_of(self._runtime.service, sample.labels.get("topic", ""))
                if tier is not None:
                    depth[tier] = depth.get(tier, 0.0) + sample.value
        for tier, value in sorted(depth.items()):
            family.add_metric([self._runtime.service, str(tier)], value)
        yield family
