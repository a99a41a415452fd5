"""Reading a chaos run back: what each service handled (its sink), the side effects it wrote
(its store), its dead letters and parked keys (from Kafka), and its lag."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException

from conveyor import naming
from conveyor.deadletter import SourceRecord
from conveyor.ops.broker import TP, Broker
from conveyor.ops.errors import OpsError
from conveyor.parking import codec as parked_codec
from tests.failures.support import read_all


@dataclass(frozen=True)
class Handling:
    """One line of a service's sink: an event its handler finished."""

    key: str
    seq: int
    event_id: str
    effect: bool  # this handling wrote the side effect (False: the store had it done already)


@dataclass(frozen=True)
class ServiceFiles:
    """Where one service of the run writes: its sink and its SQLite store."""

    name: str
    sink: Path
    store: Path


def handlings(files: ServiceFiles) -> list[Handling]:
    """Every handling in the order the processes appended them."""
    lines = files.sink.read_text().splitlines() if files.sink.exists() else []
    return [_handling(json.loads(line)) for line in lines if line.strip()]


def _handling(record: dict[str, Any]) -> Handling:
    return Handling(record["key"], record["seq"], record["event_id"], record["effect"])


def side_effects(files: ServiceFiles) -> list[str]:
    """The event id of every row the side effect wrote."""
    conn = sqlite3.connect(files.store)
    try:
        return [row[0] for row in conn.execute("SELECT event_id FROM effects")]
    finally:
        conn.close()


def dead_letters(bootstrap: str, service: str, expect: int) -> list[SourceRecord]:
    return read_all(bootstrap, naming.dead_letter_topic(service), expect, timeout=60)


def parked_keys(bootstrap: str, service: str, expect: int) -> set[tuple[str, bytes]]:
    """(source topic, key) of every key parked now: the last record per key is not a tombstone."""
    latest: dict[bytes, bytes | None] = {}
    for record in read_all(bootstrap, naming.parked_topic(service), expect, timeout=30):
        if record.key is not None:
            latest[record.key] = record.value
    parked = (parked_codec.decode(value) for value in latest.values() if value is not None)
    return {(p.topic, p.key) for p in parked}


def lag(broker: Broker, group: str, topics: Iterable[str]) -> int:
    """Events of `topics` past the group's committed offsets."""
    parts: list[TP] = [tp for topic in topics for tp in broker.partitions(topic)]
    committed = broker.committed(group)
    ends = broker.watermarks(parts)
    return sum(max(0, end - committed.get(tp, low)) for tp, (low, end) in ends.items())


def wait_for_zero_lag(
    broker: Broker, groups: dict[str, list[str]], deadline: float
) -> tuple[float | None, dict[str, int]]:
    """Seconds until every group (-> its topics) has no lag, or None past `deadline` seconds;
    and the lag of each group at the end."""
    started = time.monotonic()
    while True:
        lags = {group: _lag_or_unknown(broker, group, topics) for group, topics in groups.items()}
        elapsed = time.monotonic() - started
        if not any(lags.values()):
            return elapsed, lags
        if elapsed > deadline:
            return None, lags
        time.sleep(0.5)


def _lag_or_unknown(broker: Broker, group: str, topics: list[str]) -> int:
    """The lag, or -1 while the broker cannot tell (a node restarting)."""
    try:
        return lag(broker, group, topics)
    except (OpsError, KafkaException):
        return -1
