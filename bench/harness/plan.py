"""What a run measures: the benchmarks, the systems, and the scale."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    metric: str  # the headline metric an adapter reports
    unit: str
    prefilled: bool  # the topic holds the data set before the system starts
    higher_is_better: bool = True


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("publish", "1. Publish Avro UserSignedUp events", "events_per_s", "events/s", False),
    Benchmark("consume", "2. Consume, no-op handler, commit", "events_per_s", "events/s", True),
    Benchmark(
        "io_bound",
        "3. Async 10 ms handler, 1,000 keys over 6 partitions, per-key order",
        "events_per_s",
        "events/s",
        True,
    ),
    Benchmark("latency", "4. End-to-end latency at 2,000 events/s", "p99_ms", "ms", False, False),
    Benchmark(
        "failure",
        "5. One event in a hundred fails permanently",
        "healthy_events_per_s",
        "events/s",
        True,
    ),
)


@dataclass(frozen=True)
class System:
    name: str  # also the adapter module in bench.peers
    label: str
    peer: bool  # runs in the peers' virtualenv rather than the project's
    only: tuple[str, ...] = ()  # the benchmarks it takes part in; empty: all of them

    def runs(self, benchmark: str) -> bool:
        return not self.only or benchmark in self.only


SYSTEMS: tuple[System, ...] = (
    System("raw_confluent", "raw confluent-kafka", peer=False),
    System("conveyor_system", "conveyor", peer=False),
    # Benchmark 2 with the handler kind a bulk sink uses, beside the per-event one above (the
    # raw loop, aiokafka and FastStream handle that benchmark's events in batches too).
    System("conveyor_batch", "conveyor, batch handler", peer=False, only=("consume",)),
    System("aiokafka_peer", "aiokafka", peer=True),
    System("faststream_peer", "FastStream (Kafka)", peer=True),
    System("quix_peer", "Quix Streams", peer=True),
)
BASELINE = "raw_confluent"
SYSTEM_NAMED = {system.name: system for system in SYSTEMS}


@dataclass(frozen=True)
class Scale:
    """How much data and time each benchmark gets."""

    name: str
    events: int  # benchmarks 1 and 2
    io_events: int  # benchmark 3: sequential 10 ms handlers could not finish 200,000
    failure_events: int
    latency_seconds: float
    rate: int = 2_000
    io_delay: float = 0.010
    keys: int = 1_000
    partitions: int = 6
    failure_ratio: float = 0.01
    repeats: int = 3
    time_cap: float = 120.0  # any single run stops after this, and says so
    io_time_cap: float = 20.0

    def events_for(self, benchmark: str) -> int:
        if benchmark == "io_bound":
            return self.io_events
        if benchmark == "failure":
            return self.failure_events
        if benchmark == "latency":
            return int(self.rate * self.latency_seconds)
        return self.events


FULL = Scale(
    "full",
    events=200_000,
    io_events=20_000,
    failure_events=20_000,
    latency_seconds=10,
    time_cap=90.0,
    # On a shared 2-core machine one repetition's ratio can be 0.1 off its neighbours': five
    # keep one outlier from moving the median.
    repeats=5,
)
QUICK = Scale(
    "quick",
    events=10_000,
    io_events=2_000,
    failure_events=5_000,
    latency_seconds=3,
    repeats=2,
    time_cap=40.0,
    io_time_cap=8.0,
)
