"""Bounded reads: the records of given offset ranges, and the first record at given offsets.

The readers assign partitions directly (no group membership, nothing committed) and read
committed data only, so they see what the services see (`conveyor.clients.reader`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from confluent_kafka import Consumer

from conveyor import naming
from conveyor.clients import Outage, TopicReadError
from conveyor.clients import reader as topic_reader
from conveyor.ops.broker import TP, Broker
from conveyor.ops.errors import KafkaOperationError
from conveyor.ops.records import Record

READER_GROUP = naming.OPS_READER_GROUP  # required by the client; never joined, nothing committed


def reader(broker: Broker) -> Consumer:
    """An assign-only consumer that never commits, seeing committed records only."""
    return topic_reader.assign_only(broker.client_config(), READER_GROUP)


def scan(broker: Broker, ranges: Mapping[TP, tuple[int, int]]) -> Iterator[Record]:
    """Every record in `[start, end)` of each partition, partition by partition in order."""
    consumer = reader(broker)
    try:
        for message in _read(consumer, broker.timeout, ranges):
            yield Record.of(message)
    finally:
        consumer.close()


def peek(broker: Broker, positions: Mapping[TP, int]) -> dict[TP, Record | None]:
    """The first committed record at or after each position; None where the partition ends
    before one (nothing left to read)."""
    found: dict[TP, Record | None] = dict.fromkeys(positions)
    if not positions:
        return found
    consumer = reader(broker)
    try:
        ranges = {tp: (offset, None) for tp, offset in positions.items()}
        for message in _read(consumer, broker.timeout, ranges, limit=1):
            found[(message.topic(), message.partition())] = Record.of(message)
    finally:
        consumer.close()
    return found


def _read(
    consumer: Consumer,
    timeout: float,
    ranges: Mapping[TP, tuple[int, int | None]],
    limit: int | None = None,
) -> Iterator[Any]:
    """`conveyor.clients.reader.read_ranges`, its failures as the commands' error."""
    messages = topic_reader.read_ranges(
        consumer, ranges, timeout, Outage("reading records"), limit=limit
    )
    try:
        yield from messages
    except TopicReadError as error:
        raise KafkaOperationError("reading records", error.error) from error
