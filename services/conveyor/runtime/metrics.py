"""Prometheus metrics of one service process, in their own registry (one per running service)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from conveyor.runtime.service import Registration
from conveyor.runtime.work import WorkItem


@dataclass(frozen=True, eq=False)
class EventMeters:
    """The labelled metrics of one event type, looked up once rather than per event (and a
    dictionary key by identity)."""

    processed: Counter
    failed: Counter
    duration: Durations


_DURATION_BUCKETS: Final[tuple[float, ...]] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


class Durations:
    """Handler durations of one event type, counted per bucket (the last one is +Inf)."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(_DURATION_BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        # A scan from the smallest bucket, compiled to float compares: handlers mostly land in
        # the first few, where `bisect` (a generic comparison per step) costs four times as much.
        index = 0
        for bound in _DURATION_BUCKETS:
            if seconds <= bound:
                break
            index += 1
        self.counts[index] += 1
        self.total += seconds


class DurationCollector(Collector):
    """The histogram `conveyor_handler_duration_seconds`, kept as plain bucket counts and turned
    into Prometheus samples when scraped.

    Observations happen once per handled event, on the dispatcher's loop thread alone, where
    prometheus-client's `Histogram.observe` (a lock per call, about a microsecond) would be a
    tenth of the runtime's whole cost per event; here an observation is a short scan of the
    bucket bounds and two adds.
    A scrape reads counts that may be one observation apart from their sum: harmless.
    """

    name = "conveyor_handler_duration_seconds"
    documentation = "Handler wall time per attempt (per batch for batch handlers)."

    def __init__(self, service: str) -> None:
        self._service = service
        self._by_type: dict[str, Durations] = {}

    def for_event_type(self, event_type: str) -> Durations:
        return self._by_type.setdefault(event_type, Durations())

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield self._family()

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = self._family()
        bounds = [*map(floatToGoString, _DURATION_BUCKETS), "+Inf"]
        for event_type, durations in list(self._by_type.items()):
            cumulative = accumulate(list(durations.counts))
            family.add_metric(
                [self._service, event_type],
                list(zip(bounds, cumulative, strict=True)),
                durations.total,
            )
        yield family

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(
            self.name, self.documentation, labels=["service", "event_type"]
        )


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
        self.rejoins = Counter(
            "conveyor_group_rejoins",
            "Times this process left its group and joined again because it and the group "
            "coordinator disagreed about its partitions (see conveyor.runtime.membership).",
            ["service"],
            registry=registry,
        ).labels(service)
        self.duration = DurationCollector(service)
        registry.register(self.duration)
        self.in_flight = Gauge(
            "conveyor_in_flight", "Handlers running now.", ["service"], registry=registry
        ).labels(service)
        self.pending = _partition_gauge(
            "conveyor_partition_pending",
            "Fetched events of a partition not yet in its committed prefix.",
            registry,
        )
        self.committed = _partition_gauge(
            "conveyor_partition_committed_offset", "Last committed offset per partition.", registry
        )
        self.lag = _partition_gauge(
            "conveyor_partition_lag",
            "Events of a partition still to handle (transaction markers not counted).",
            registry,
        )
        self.lag_seconds = _partition_gauge(
            "conveyor_partition_lag_seconds",
            "Age of the oldest event of a partition fetched and not yet handled.",
            registry,
        )
        self.paused = Gauge(
            "conveyor_paused",
            "1 while an operator has paused the service (conveyor pause), all topics or some.",
            ["service"],
            registry=registry,
        ).labels(service)
        self.lane_held = Gauge(
            "conveyor_lane_held",
            "1 while a lane is held back because a higher lane of its topic has events waiting.",
            ["service", "topic", "lane"],
            registry=registry,
        )
        self.service = service

    def for_event_type(self, event_type: str) -> EventMeters:
        return EventMeters(
            processed=self.processed.labels(self.service, event_type),
            failed=self.failed.labels(self.service, event_type),
            duration=self.duration.for_event_type(event_type),
        )

    def forget_partition(self, topic: str, partition: int) -> None:
        for gauge in (self.pending, self.committed, self.lag, self.lag_seconds):
            with contextlib.suppress(KeyError):
                gauge.remove(self.service, topic, str(partition))


class HandlerMeters:
    """The handlers' meters as the dispatcher records them: each registration's looked up once,
    processed events counted per loop turn and added to their counters at once (`flush`)."""

    def __init__(self, metrics: RuntimeMetrics) -> None:
        self._metrics = metrics
        self._of: dict[Registration | None, EventMeters] = {}
        self._processed: dict[EventMeters, int] = {}

    def succeeded(self, items: list[WorkItem], seconds: float) -> None:
        """One successful attempt (of one event, or one batch) that took `seconds`."""
        meters = self._of.get(items[0].registration) or self._meters(items[0])
        processed = self._processed
        processed[meters] = processed.get(meters, 0) + len(items)
        meters.duration.observe(seconds)

    def failed(self, item: WorkItem) -> None:
        """One failed attempt (of `item`, or of the batch it leads)."""
        self._meters(item).failed.inc()

    def flush(self) -> None:
        """Once per loop turn: add the processed events to their counters."""
        for meters, count in self._processed.items():
            meters.processed.inc(count)
        self._processed.clear()

    def _meters(self, item: WorkItem) -> EventMeters:
        meters = self._of.get(item.registration)
        if meters is None:
            meters = self._of[item.registration] = self._metrics.for_event_type(item.type_name)
        return meters


def _partition_gauge(name: str, documentation: str, registry: CollectorRegistry) -> Gauge:
    """A gauge per partition of a service's input: the labels every partition metric shares."""
    return Gauge(name, documentation, ["service", "topic", "partition"], registry=registry)
