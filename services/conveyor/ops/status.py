"""BullMQ-style counts per service, read from the broker: waiting (lag in events and seconds),
retrying per tier, parked keys, dead-lettered, members, group state and events/s."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, NamedTuple

from conveyor.ops import ledger, pauses
from conveyor.ops.broker import TP, Broker, Member
from conveyor.ops.compacted import read_table
from conveyor.ops.reader import peek, scan
from conveyor.ops.records import Record
from conveyor.ops.timeparse import iso
from conveyor.ops.topology import ServiceTopology

EXACT_UP_TO: Final = 1000
"""Partitions at most this many offsets behind have their waiting events counted one by one."""


class Sample(NamedTuple):
    taken_at_ms: int
    processed: int  # sum of the group's committed offsets on the topics it consumes


@dataclass(frozen=True)
class PartitionLag:
    """One partition the service consumes. `committed` is None when the group never committed
    there (it then starts from the earliest record, so all of them wait)."""

    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int
    oldest_ms: int | None  # timestamp of the first unprocessed event, when there is one

    def lag_seconds(self, now_ms: int) -> float:
        return 0.0 if self.oldest_ms is None else max(0.0, (now_ms - self.oldest_ms) / 1000)


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    state: str
    members: tuple[Member, ...]
    partitions: tuple[PartitionLag, ...]  # input topics only
    retrying: dict[str, int]  # retry tier topic -> events waiting in it
    parked: int
    dead_lettered: int  # in the dead-letter topic and not redriven
    taken_at_ms: int
    processed: int  # sum of committed offsets, the basis of events/s
    events_per_second: float | None = None
    retry_partitions: tuple[PartitionLag, ...] = field(default=())
    paused: tuple[str, ...] = ()  # `conveyor pause`: "*" (every topic) or the paused topics
    lanes: dict[str, int] = field(default_factory=dict)  # `<topic>/<lane>` -> events waiting

    @property
    def sample(self) -> Sample:
        return Sample(self.taken_at_ms, self.processed)

    @property
    def waiting(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def waiting_seconds(self) -> float:
        return max((p.lag_seconds(self.taken_at_ms) for p in self.partitions), default=0.0)


def collect(broker: Broker, topology: ServiceTopology) -> ServiceStatus:
    """One service's status now (events/s is left to `with_rate`, which needs two samples)."""
    group = broker.describe_group(topology.group)
    committed = broker.committed(topology.group)
    now_ms = int(time.time() * 1000)
    inputs = _lags(broker, topology.inputs, committed)
    tiers = _lags(broker, topology.retry_topics, committed)
    retrying = dict.fromkeys(topology.retry_topics, 0)
    for lag in tiers:
        retrying[lag.topic] += lag.lag
    return ServiceStatus(
        service=topology.service,
        state=group.state,
        members=group.members,
        partitions=tuple(inputs),
        retrying=retrying,
        parked=len(read_table(broker, topology.parked_topic)) if topology.parked_topic else 0,
        dead_lettered=_dead_lettered(broker, topology),
        taken_at_ms=now_ms,
        processed=sum(p.committed or 0 for p in inputs + tiers),
        retry_partitions=tuple(tiers),
        paused=_paused(broker, topology.service),
        lanes=_lane_waiting(topology, inputs),
    )


def _lane_waiting(topology: ServiceTopology, inputs: list[PartitionLag]) -> dict[str, int]:
    """Events waiting per lane of the service's topics with lanes, highest lane first."""
    waiting = dict.fromkeys((lane for _, lane in topology.lanes), 0)
    lane_of = dict(topology.lanes)
    for partition in inputs:
        lane = lane_of.get(partition.topic)
        if lane is not None:
            waiting[lane] += partition.lag
    return waiting


def _paused(broker: Broker, service: str) -> tuple[str, ...]:
    found = pauses.paused(broker, service)
    return ("*",) if found.everything else tuple(sorted(found.topics))


def sample(broker: Broker, topology: ServiceTopology) -> Sample:
    """A cheap first sample for events/s: now, and the sum of the group's committed offsets."""
    consumed = set(topology.consumed)
    committed = broker.committed(topology.group)
    total = sum(o for (topic, _), o in committed.items() if topic in consumed)
    return Sample(int(time.time() * 1000), total)


def with_rate(previous: Sample | None, current: ServiceStatus) -> ServiceStatus:
    """`current` with events/s: committed offsets gained since `previous`, per second."""
    if previous is None or current.taken_at_ms <= previous.taken_at_ms:
        return current
    seconds = (current.taken_at_ms - previous.taken_at_ms) / 1000
    rate = max(0, current.processed - previous.processed) / seconds
    return replace(current, events_per_second=rate)


def _lags(broker: Broker, topics: tuple[str, ...], committed: dict[TP, int]) -> list[PartitionLag]:
    parts = [tp for topic in topics for tp in broker.partitions(topic)]
    marks = broker.watermarks(parts)
    starts = {tp: max(committed.get(tp, low), low) for tp, (low, _) in marks.items()}
    behind = {tp: (start, marks[tp][1]) for tp, start in starts.items() if start < marks[tp][1]}
    counted = count_waiting(broker, behind)
    lags = []
    for tp in parts:
        lag, first = counted.get(tp, (0, None))
        lags.append(
            PartitionLag(
                topic=tp[0],
                partition=tp[1],
                committed=committed.get(tp),
                end=marks[tp][1],
                lag=lag,
                oldest_ms=first.timestamp_ms if first is not None else None,
            )
        )
    return lags


def count_waiting(
    broker: Broker, ranges: Mapping[TP, tuple[int, int]], exact_up_to: int = EXACT_UP_TO
) -> dict[TP, tuple[int, Record | None]]:
    """Per partition, the events a read_committed consumer still has to handle in `[start,
    end)`, and the first of them (None when there is none).

    Offsets are not events: every transaction leaves a marker offset in each partition it
    wrote to, and an aborted transaction's records are never delivered. A range of at most
    `exact_up_to` offsets is read and its records counted, exactly; that is where markers matter
    (a service that handled everything is left with only markers, and `--max-lag 0` must hold).
    A longer range counts the offsets from its first record: an over-count by the markers and
    aborted records in it, a few among many, for the cost of reading one record.
    """
    short = {tp: r for tp, r in ranges.items() if r[1] - r[0] <= exact_up_to}
    counts: dict[TP, tuple[int, Record | None]] = dict.fromkeys(short, (0, None))
    for record in scan(broker, short):
        seen, first = counts[record.tp]
        counts[record.tp] = (seen + 1, first or record)
    long = {tp: r[0] for tp, r in ranges.items() if tp not in short}
    for tp, first in peek(broker, long).items():
        counts[tp] = (ranges[tp][1] - first.offset, first) if first is not None else (0, None)
    return counts


def _dead_lettered(broker: Broker, topology: ServiceTopology) -> int:
    if topology.dead_letter_topic is None:
        return 0
    marks = broker.watermarks(broker.partitions(topology.dead_letter_topic))
    total = sum(end - low for low, end in marks.values())
    topic = topology.dead_letter_topic
    redriven = ledger.load(broker, topology.service, settle=0)
    still_there = sum(1 for p, offset in redriven if marks.get((topic, p), (0, 0))[0] <= offset)
    return max(0, total - still_there)


@dataclass(frozen=True)
class Thresholds:
    """Limits past which `conveyor status` exits non-zero (None: no limit)."""

    max_lag: int | None = None
    max_lag_seconds: float | None = None
    max_dead_letters: int | None = None

    def breaches(self, status: ServiceStatus) -> list[str]:
        found = []
        if self.max_lag is not None and status.waiting > self.max_lag:
            found.append(f"{status.service}: {status.waiting} events waiting > {self.max_lag}")
        if self.max_lag_seconds is not None and status.waiting_seconds > self.max_lag_seconds:
            found.append(
                f"{status.service}: oldest waiting event {status.waiting_seconds:.1f}s old "
                f"> {self.max_lag_seconds:g}s"
            )
        if self.max_dead_letters is not None and status.dead_lettered > self.max_dead_letters:
            found.append(
                f"{status.service}: {status.dead_lettered} dead letters > {self.max_dead_letters}"
            )
        return found


def as_dict(status: ServiceStatus, verbose: bool = False) -> dict[str, Any]:
    """The JSON form `conveyor status --json` prints (per partition with `verbose`)."""
    doc: dict[str, Any] = {
        "service": status.service,
        "state": status.state,
        "paused": list(status.paused),
        "members": [m.describe() for m in status.members],
        "waiting": status.waiting,
        "waiting_seconds": round(status.waiting_seconds, 3),
        "waiting_by_lane": status.lanes,
        "retrying": status.retrying,
        "parked": status.parked,
        "dead_lettered": status.dead_lettered,
        "events_per_second": (
            None if status.events_per_second is None else round(status.events_per_second, 2)
        ),
        "taken_at": iso(status.taken_at_ms),
    }
    if verbose:
        doc["partitions"] = [
            {**asdict(p), "lag_seconds": round(p.lag_seconds(status.taken_at_ms), 3)}
            for p in status.partitions + status.retry_partitions
        ]
    return doc
