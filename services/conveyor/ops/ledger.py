"""The redrive ledger: which of a service's dead letters were already redriven.

A compacted topic keyed by the dead letter's `<partition>:<offset>`. The redrive writes each
mark in the same Kafka transaction as the redriven event, so after a crash either both exist
or neither does, and the next run skips exactly the ones done.
"""

from __future__ import annotations

from typing import Any

from conveyor.ops.broker import Broker
from conveyor.ops.compacted import read_table
from conveyor.ops.names import redriven_topic

Position = tuple[int, int]
"""A dead letter's (partition, offset) in `<service>.dlq`."""


def load(broker: Broker, service: str, settle: float = 1.0) -> dict[Position, int]:
    """Every redriven dead letter of `service` -> when it was redriven (epoch millis).

    A transaction's marks become readable a moment after it commits, so this first waits up
    to `settle` seconds for the ledger to have no transaction in flight."""
    topic = redriven_topic(service)
    if topic in broker.topics():
        broker.wait_stable(broker.partitions(topic), settle)
    done: dict[Position, int] = {}
    for key, record in read_table(broker, topic).items():
        partition, _, offset = key.decode().partition(":")
        done[(int(partition), int(offset))] = record.timestamp_ms
    return done


def ensure(broker: Broker, service: str) -> str:
    topic = redriven_topic(service)
    broker.ensure_compacted_topic(topic)
    return topic


def mark(producer: Any, service: str, position: Position, redriven_at_ms: int) -> None:
    """Record `position` as redriven (inside the producer's open transaction)."""
    partition, offset = position
    producer.produce(
        redriven_topic(service),
        key=f"{partition}:{offset}".encode(),
        value=str(redriven_at_ms).encode(),
        timestamp=redriven_at_ms,
    )
