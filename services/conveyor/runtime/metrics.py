"""Prometheus metrics of one service process, in their own registry (one per running service)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class EventMeters:
    """The labelled metrics of one event type, looked up once rather than per event."""

    processed: Counter
    failed: Counter
    duration: Histogram


_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class RuntimeMetrics:
    """The runtime's metrics; names are contracts for dashboards."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        registry = self.registry
        self.processed = Counter(
            "conveyor_events_processed",
            "Events handled successfully.",
            ["service", "event_type"],
            registry=registry,
        )
        self.failed = Counter(
            "conveyor_events_failed",
            "Handler attempts that raised.",
            ["service", "event_type"],
            registry=registry,
        )
        self.skipped = Counter(
            "conveyor_events_skipped",
            "Events of types this service has no handler for.",
            ["service", "topic"],
            registry=registry,
        )
        self.duration = Histogram(
            "conveyor_handler_duration_seconds",
            "Handler wall time per attempt (per batch for batch handlers).",
            ["service", "event_type"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "conveyor_in_flight", "Handlers running now.", ["service"], registry=registry
        ).labels(service)
        self.pending = Gauge(
            "conveyor_partition_pending",
            "Fetched events of a partition not yet in its committed prefix.",
            ["service", "topic", "partition"],
            registry=registry,
        )
        self.committed = Gauge(
            "conveyor_partition_committed_offset",
            "Last committed offset per partition.",
            ["service", "topic", "partition"],
            registry=registry,
        )
        self.lag = Gauge(
            "conveyor_partition_lag",
            "High watermark minus committed offset per partition.",
            ["service", "topic", "partition"],
            registry=registry,
        )
        self.service = service

    def for_event_type(self, event_type: str) -> EventMeters:
        return EventMeters(
            processed=self.processed.labels(self.service, event_type),
            failed=self.failed.labels(self.service, event_type),
            duration=self.duration.labels(self.service, event_type),
        )

    def forget_partition(self, topic: str, partition: int) -> None:
        for gauge in (self.pending, self.committed, self.lag):
            with contextlib.suppress(KeyError):
                gauge.remove(self.service, topic, str(partition))
