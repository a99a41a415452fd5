"""An entity's journey: every event with one key on the services' input topics, in order, and
for each service reading the topic what became of it, from the broker's state alone.

Per service an event is `handled` (the group committed past it), `waiting` (not yet), `retrying`
(pending on one of its retry tiers or its redrive topic), `dead-lettered` (in its dead-letter
topic, not redriven) or `parked` (dead-lettered behind an earlier event of its parked key). An
ordered service retrying an event in place shows it as `waiting`: that lives in its memory only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conveyor import naming
from conveyor.ops import ledger
from conveyor.ops.broker import TP, Broker
from conveyor.ops.compacted import read_table
from conveyor.ops.deadletters import DeadLetter, read_all
from conveyor.ops.partitioner import partition_of
from conveyor.ops.reader import scan
from conveyor.ops.records import Record
from conveyor.ops.topology import ServiceTopology

DEPTH = 100_000
"""Records read back from the end of the key's partition of each topic, at most."""

Origin = tuple[str, int, int]
"""Where an event first stood: topic, partition, offset."""


@dataclass(frozen=True)
class Fate:
    """What one service made of one event."""

    service: str
    state: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stop:
    """One event of the entity, and each consuming service's fate for it."""

    record: Record
    fates: tuple[Fate, ...]


@dataclass(frozen=True)
class Journey:
    key: str
    stops: tuple[Stop, ...]
    searched: dict[str, tuple[int, int, int]]  # topic -> (partition, from offset, end)


def trace(
    broker: Broker, topologies: Sequence[ServiceTopology], key: str, depth: int = DEPTH
) -> Journey:
    """The journey of the entity `key` through the services `topologies` describe."""
    raw = key.encode()
    topics = list(dict.fromkeys(t for topology in topologies for t in topology.inputs))
    searched: dict[str, tuple[int, int, int]] = {}
    events: list[Record] = []
    for topic in topics:
        tp = (topic, partition_of(raw, len(broker.partitions(topic))))
        low, end = broker.watermarks([tp])[tp]
        start = max(low, end - depth)
        searched[topic] = (tp[1], start, end)
        events += [r for r in scan(broker, {tp: (start, end)}) if r.key == raw]
    events.sort(key=lambda r: (r.timestamp_ms, r.topic, r.offset))
    readers = [t for t in topologies if set(t.inputs) & set(topics)]
    books = {t.service: _Book.read(broker, t, raw) for t in readers}
    stops = tuple(
        Stop(r, tuple(books[t.service].fate(r) for t in readers if r.topic in t.inputs))
        for r in events
    )
    return Journey(key, stops, searched)


def _origin_of(record: Record) -> Origin | None:
    topic = record.header(naming.ORIGINAL_TOPIC)
    partition = record.int_header(naming.ORIGINAL_PARTITION)
    offset = record.int_header(naming.ORIGINAL_OFFSET)
    if topic is None or partition is None or offset is None:
        return None
    return (topic, partition, offset)


@dataclass(frozen=True)
class _Book:
    """One service's records about one key: committed offsets, its letters, its retries."""

    topology: ServiceTopology
    committed: dict[TP, int]
    letters: dict[Origin, DeadLetter]  # not redriven
    redriven: frozenset[Origin]
    retrying: dict[Origin, Record]
    parked_keys: frozenset[bytes]

    @classmethod
    def read(cls, broker: Broker, topology: ServiceTopology, key: bytes) -> _Book:
        committed = broker.committed(topology.group)
        done = ledger.load(broker, topology.service, settle=0)
        letters: dict[Origin, DeadLetter] = {}
        redriven: set[Origin] = set()
        if topology.dead_letter_topic is not None:
            for letter in read_all(broker, topology):
                origin = _origin_of(letter.record)
                if letter.record.key != key or origin is None:
                    continue
                if letter.position in done:
                    redriven.add(origin)
                else:
                    letters[origin] = letter
        retrying = {
            origin: record
            for record in _pending(broker, topology.retry_topics, committed)
            if record.key == key and (origin := _origin_of(record)) is not None
        }
        table = read_table(broker, topology.parked_topic) if topology.parked_topic else {}
        return cls(topology, committed, letters, frozenset(redriven), retrying, frozenset(table))

    def fate(self, record: Record) -> Fate:
        service = self.topology.service
        origin = (record.topic, record.partition, record.offset)
        letter = self.letters.get(origin)
        if letter is not None:
            behind = letter.record.header(naming.PARKED_BEHIND)
            state = "parked" if behind else "dead-lettered"
            return Fate(service, state, {**letter.summary(), "parked_behind": behind})
        again = self.retrying.get(origin)
        if again is not None:
            return Fate(
                service,
                "retrying",
                {
                    "tier": again.topic,
                    "attempts": again.int_header(naming.ATTEMPTS),
                    "error_type": again.header(naming.ERROR_TYPE),
                    "due_at": again.header(naming.RETRY_DUE_AT),
                },
            )
        detail = {"redriven": origin in self.redriven}
        if self.committed.get(record.tp, -1) > record.offset:
            return Fate(service, "handled", detail)
        if naming.parked_record_key(record.topic, record.key) in self.parked_keys:
            return Fate(service, "parked", {**detail, "key_parked": True})
        return Fate(service, "waiting", detail)


def _pending(broker: Broker, topics: Iterable[str], committed: dict[TP, int]) -> list[Record]:
    """The records of `topics` the group has not committed past yet."""
    parts = [tp for topic in topics for tp in broker.partitions(topic)]
    marks = broker.watermarks(parts)
    ranges = {tp: (max(committed.get(tp, low), low), end) for tp, (low, end) in marks.items()}
    return list(scan(broker, ranges))


def as_dict(journey: Journey, describe: Callable[[Record], dict[str, Any]]) -> dict[str, Any]:
    """The JSON form: each event as `describe(record)` gives it, with its lane (None off
    lanes) and its fates."""
    return {
        "key": journey.key,
        "searched": {
            topic: {"partition": p, "from_offset": start, "end_offset": end}
            for topic, (p, start, end) in journey.searched.items()
        },
        "events": [
            {
                **describe(stop.record),
                "lane": stop.record.header(naming.LANE),
                "services": [
                    {"service": f.service, "state": f.state, **f.detail} for f in stop.fates
                ],
            }
            for stop in journey.stops
        ],
    }
