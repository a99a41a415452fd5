"""What every adapter shares: the data set, the Avro single-object frame, and the measurements.

Only the standard library and fastavro: this module runs in the project's virtualenv and in the
peers' one alike.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import statistics
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form

from bench.peers.protocol import Spec

MARKER = b"\xc3\x01"
HEADER_SIZE = 10
CONTENT_TYPE = b"application/vnd.apache.avro+binary"
EVENT_TYPE = b"conveyor.events.UserSignedUp"
FAIL_PREFIX = "FAIL"

Record = dict[str, Any]
Headers = list[tuple[str, str | bytes | None]]


def load_records(spec: Spec) -> list[Record]:
    """The run's events as plain dicts (the fields of `UserSignedUp`), in publishing order."""
    with Path(spec["dataset"]).open() as lines:
        records = [json.loads(line) for line in lines]
    return records[: spec["events"]]


def start_clock() -> float:
    """`time.perf_counter()` once the garbage collector has settled its debt for the data set
    just built. Every system's publish starts its clock with this, so none pays for collecting
    its own input; a system that keeps objects alive (delivery handles, futures) would otherwise
    take the full collections that the data set's young objects set off."""
    gc.collect()
    return time.perf_counter()


def event_index(event_id: str | uuid.UUID) -> int:
    """The event's position in the data set: the harness writes it into the id's low bits."""
    value = event_id.int if isinstance(event_id, uuid.UUID) else uuid.UUID(event_id).int
    return value & 0xFFFFFFFF


def is_failing(name: str) -> bool:
    return name.startswith(FAIL_PREFIX)


class AvroFrame:
    """Avro single-object encoding of one schema, with fastavro: `C3 01`, the CRC-64-AVRO
    fingerprint of the Parsing Canonical Form (8 bytes, little-endian), the binary body."""

    def __init__(self, schema_file: str) -> None:
        raw = json.loads(Path(schema_file).read_text())
        self.schema = parse_schema(raw)
        canonical = to_parsing_canonical_form(raw)
        self.header = MARKER + bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))

    def encode(self, record: Record) -> bytes:
        out = io.BytesIO()
        out.write(self.header)
        schemaless_writer(out, self.schema, record)
        return out.getvalue()

    def decode(self, value: bytes | None) -> Record:
        if value is None or value[:HEADER_SIZE] != self.header:
            raise ValueError("not this schema's single-object encoding")
        decoded = schemaless_reader(io.BytesIO(value[HEADER_SIZE:]), self.schema, None)
        if not isinstance(decoded, dict):
            raise ValueError("the schema's body is not a record")
        return decoded


def headers_for(record: Record) -> Headers:
    """The headers conveyor puts on every event; peers send the same."""
    return [
        ("event-type", EVENT_TYPE),
        ("event-id", str(record["event_id"]).encode()),
        ("content-type", CONTENT_TYPE),
    ]


def paced(count: int, rate: float) -> Iterator[int]:
    """Yields 0..count-1, each at its slot of a fixed rate (blocking sleeps between)."""
    started = time.perf_counter()
    for i in range(count):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield i


def slot_delay(started: float, i: int, rate: float) -> float:
    """Seconds to wait before event `i` of a fixed-rate stream that began at `started`."""
    return max(0.0, started + i / rate - time.perf_counter())


@dataclass
class Progress:
    """Counts handled events and when the first and the last were handled."""

    target: int
    done: int = 0
    first: float = 0.0
    last: float = 0.0

    def tick(self, n: int = 1) -> bool:
        """Count `n` handled events; True once the target is reached."""
        now = time.perf_counter()
        if self.done == 0:
            self.first = now
        self.done += n
        self.last = now
        return self.done >= self.target

    @property
    def finished(self) -> bool:
        return self.done >= self.target

    def rate(self) -> float:
        """Events/s from the first handled event to the last (group join excluded)."""
        span = self.last - self.first
        return (self.done - 1) / span if self.done > 1 and span > 0 else 0.0

    def metrics(self) -> dict[str, float]:
        return {"events_per_s": self.rate(), "handled": self.done}


@dataclass
class OrderCheck:
    """Counts events handled before an earlier event of the same key (per-key order broken)."""

    last: dict[str, int] = field(default_factory=dict)
    violations: int = 0

    def see(self, key: str, index: int) -> None:
        if index < self.last.get(key, -1):
            self.violations += 1
        else:
            self.last[key] = index


@dataclass
class IoBound:
    """The I/O-bound benchmark's handling: `delay` seconds of simulated I/O per event, then
    counted and checked for per-key order."""

    progress: Progress
    delay: float
    order: OrderCheck = field(default_factory=OrderCheck)

    def handled(self, key: str, record: Record) -> None:
        """Count an event whose I/O is done."""
        self.order.see(key, event_index(record["event_id"]))
        self.progress.tick()

    async def chains(self, by_key: dict[str, list[Record]]) -> None:
        """One coroutine chain per key over a batch: keys concurrent, each key in order."""

        async def chain(key: str, records: list[Record]) -> None:
            for record in records:
                await asyncio.sleep(self.delay)
                self.handled(key, record)

        await asyncio.gather(*(chain(k, rs) for k, rs in by_key.items()))

    def metrics(self) -> dict[str, float]:
        return {**self.progress.metrics(), "order_violations": self.order.violations}


SETTLE_SECONDS = 5.0  # longer than a retry policy's first backoffs


@dataclass
class FailureTally:
    """What a system did with the failing events of the failure benchmark.

    `reachable` is how many healthy events a system that keeps per-key order can handle: those
    behind a failed event of their key wait with it. A run is over once that many are handled
    and the handler has not been called for a moment (or all healthy events are handled).
    """

    healthy: Progress
    reachable: int
    last_call: float = 0.0
    failing_attempts: int = 0
    failed_keys: set[str] = field(default_factory=set)
    passed_failed_key: int = 0  # healthy events handled after an earlier event of their key failed
    order: OrderCheck = field(default_factory=OrderCheck)

    def handle(self, record: Record, key: str) -> None:
        """The benchmark's handler body: raise for failing events, count healthy ones."""
        index = event_index(record["event_id"])
        self.last_call = time.perf_counter()
        if is_failing(record["name"]):
            self.failing_attempts += 1
            self.failed_keys.add(key)
            raise PermanentFailureError(index)
        if key in self.failed_keys:
            self.passed_failed_key += 1
        self.order.see(key, index)
        self.healthy.tick()

    def settled(self) -> bool:
        if self.healthy.finished:
            return True
        quiet = time.perf_counter() - self.last_call > SETTLE_SECONDS
        return self.healthy.done >= self.reachable and quiet

    def metrics(self) -> dict[str, float]:
        return {
            "healthy_events_per_s": self.healthy.rate(),
            "healthy_handled": self.healthy.done,
            "failing_attempts": self.failing_attempts,
            "passed_failed_key": self.passed_failed_key,
        }


class PermanentFailureError(Exception):
    """The failure benchmark's handler error: this event can never succeed."""


LATENCY_WARM_UP_S = 1.0


class LatencyProbe:
    """End-to-end latency of a paced stream, send and receive in one process.

    Event 0 is the warm-up: the sender repeats it until the receiver has seen it (the group has
    joined and fetches), then sends events 1..n-1 at the fixed rate. The first
    `LATENCY_WARM_UP_S` of that stream is not measured, for every system alike: a running
    service's producer and broker are past their start, and in the first half second of a fresh
    stream produce requests sometimes stall 40-200 ms on a 2-core machine, whoever consumes.
    """

    def __init__(self, count: int, rate: float) -> None:
        self.count = count
        self.rate = rate
        self.unmeasured = min(count - 2, int(rate * LATENCY_WARM_UP_S))
        self.ready = threading.Event()
        self.sent: dict[int, float] = {}
        self.samples: list[float] = []
        self.started = 0.0

    def received(self, index: int) -> None:
        if index == 0:
            self.ready.set()
        elif index in self.sent:
            self.samples.append((time.perf_counter() - self.sent[index]) * 1000)

    def stream(self) -> Iterator[int]:
        """After the warm-up, yields 1..count-1 at their time slots, stamping each as sent
        (blocking sleeps; asyncio code uses `begin`, `delay` and `stamp` instead)."""
        self.begin()
        for i in range(1, self.count):
            time.sleep(self.delay(i))
            self.stamp(i)
            yield i

    async def paced(self, send: Callable[[int], Awaitable[None]]) -> None:
        """The asyncio `stream`: repeat event 0 until it is seen, then send the rest paced."""
        while not self.ready.is_set():
            await send(0)
            await asyncio.sleep(0.2)
        self.begin()
        for i in range(1, self.count):
            await asyncio.sleep(self.delay(i))
            self.stamp(i)
            await send(i)

    def begin(self) -> None:
        self.started = time.perf_counter()

    def delay(self, i: int) -> float:
        """Seconds until event `i`'s slot."""
        return slot_delay(self.started, i - 1, self.rate)

    def stamp(self, i: int) -> None:
        if i > self.unmeasured:
            self.sent[i] = time.perf_counter()

    @property
    def done(self) -> bool:
        return len(self.samples) >= self.count - 1 - self.unmeasured

    def metrics(self) -> dict[str, float]:
        return latency_metrics(self.samples)


def latency_metrics(samples_ms: list[float]) -> dict[str, float]:
    if len(samples_ms) < 2:
        return {"received": len(samples_ms)}
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50_ms": cuts[49], "p99_ms": cuts[98], "received": len(samples_ms)}


def encoding(spec: Spec) -> tuple[AvroFrame, list[Record]]:
    """The publish benchmark's start: the schema's frame and the events to publish."""
    return AvroFrame(spec["schema"]), load_records(spec)


def decoding(spec: Spec) -> tuple[AvroFrame, Progress]:
    """The consume benchmarks' start: the schema's frame and a count of every event."""
    return AvroFrame(spec["schema"]), Progress(spec["events"])


def io_bound_run(spec: Spec) -> tuple[AvroFrame, IoBound]:
    """The I/O-bound benchmark's start: the frame and the handling of every event."""
    return AvroFrame(spec["schema"]), IoBound(Progress(spec["events"]), spec["io_delay"])


def latency_run(spec: Spec) -> tuple[AvroFrame, list[Record], LatencyProbe]:
    """The latency benchmark's start: the frame, the events to send and the probe timing them."""
    records = load_records(spec)
    return AvroFrame(spec["schema"]), records, LatencyProbe(len(records), spec["rate"])


def key_of(record: Record) -> bytes:
    """The message key every system publishes an event under."""
    return str(record["user_id"]).encode()


def new_tally(spec: Spec) -> FailureTally:
    return FailureTally(Progress(spec["healthy"]), spec["reachable"])


def failing(spec: Spec) -> tuple[AvroFrame, FailureTally]:
    """The failure benchmark's start: the schema's frame and the tally of what was handled."""
    return AvroFrame(spec["schema"]), new_tally(spec)


def wait_until(predicate: Any, timeout: float, step: float = 0.01) -> bool:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        time.sleep(step)
    return True
