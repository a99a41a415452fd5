"""Reading a chaos run back: what each service handled (its sink), the side effects it wrote
(its store), its dead letters and parked keys (from Kafka), and its lag."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._group import MemberAssignment

from conveyor import naming
from conveyor.deadletter import SourceRecord
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


class GroupLag:
    """How far one group is behind on some partitions, read through a consumer of that group
    (which never subscribes, so it does not join): its committed offsets and the partitions'
    ends. Not through the admin API: librdkafka 2.16's admin client crashed the harness
    (SIGSEGV, and an `eonce->refcnt` assertion) describing groups and listing offsets while
    the coordinator moved."""

    def __init__(self, bootstrap: str, group: str, partitions: list[TopicPartition]) -> None:
        self.group = group
        self._partitions = partitions
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "log_level": 0,
            }
        )

    def events(self) -> int:
        """The lag; -1 while the cluster cannot tell (a look to repeat)."""
        try:
            committed = self._consumer.committed(self._partitions, timeout=10)
            total = 0
            for tp in committed:
                low, end = self._consumer.get_watermark_offsets(tp, timeout=10)
                total += max(0, end - (tp.offset if tp.offset >= 0 else low))
        except KafkaException:
            return -1
        return total

    def close(self) -> None:
        self._consumer.close()


def wait_for_zero_lag(lags: list[GroupLag], deadline: float) -> tuple[float | None, dict[str, int]]:
    """Seconds until no group has lag, or None past `deadline` seconds; and each group's lag
    at the end."""
    started = time.monotonic()
    while True:
        now = {lag.group: lag.events() for lag in lags}
        elapsed = time.monotonic() - started
        if not any(now.values()):
            return elapsed, now
        if elapsed > deadline:
            return None, now
        time.sleep(0.5)


def describe_groups(bootstrap: str, groups: list[str]) -> str:
    """Each group's state, coordinator and members with their current and target assignments,
    as the coordinator reports them: what a run stuck short of lag 0 is waiting for. (Only once
    the faults are over: see GroupLag on the admin client while the coordinator moves.)"""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    lines = []
    for group, future in admin.describe_consumer_groups(groups, request_timeout=20).items():
        try:
            found = future.result(timeout=30)
        except KafkaException as error:
            lines.append(f"{group}: not described ({error})")
            continue
        lines.append(f"{group}: {found.state}, coordinator node {found.coordinator.id}")
        for member in found.members:
            lines.append(
                f"  {member.member_id} {member.client_id}@{member.host} "
                f"assigned {_partitions(member.assignment)} "
                f"target {_partitions(member.target_assignment)}"
            )
    return "\n".join(lines)


def _partitions(assignment: MemberAssignment | None) -> str:
    if assignment is None:
        return "-"
    return ",".join(f"{tp.topic}[{tp.partition}]" for tp in assignment.topic_partitions) or "none"
