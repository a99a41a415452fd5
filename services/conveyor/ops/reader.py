"""Bounded reads: the records of given offset ranges, and the first record at given offsets.

The readers assign partitions directly (no group membership, nothing committed) and read
committed data only, so they see what the services see.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from conveyor.clients import Outage, is_transient
from conveyor.ops.broker import TP, Broker
from conveyor.ops.errors import KafkaOperationError
from conveyor.ops.names import OPS_GROUP_PREFIX
from conveyor.ops.records import Record

READER_GROUP = (
    f"{OPS_GROUP_PREFIX}-reader"  # required by the client; the readers never join or commit
)
BATCH = 500


def reader(broker: Broker, **overrides: Any) -> Consumer:
    """An assign-only consumer that never commits, seeing committed records only."""
    return Consumer(
        broker.client_config(
            **{
                "group.id": READER_GROUP,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                **overrides,
            }
        )
    )


def scan(broker: Broker, ranges: Mapping[TP, tuple[int, int]]) -> Iterator[Record]:
    """Every record in `[start, end)` of each partition, partition by partition in order."""
    pending = {tp: end for tp, (start, end) in ranges.items() if start < end}
    if not pending:
        return
    consumer = reader(broker)
    try:
        consumer.assign([TopicPartition(t, p, ranges[(t, p)][0]) for t, p in pending])
        for message in _messages(consumer, broker.timeout, pending):
            tp = (message.topic(), message.partition())
            if message.error() is not None:
                _finish(consumer, pending, tp)
                continue
            if tp not in pending or message.offset() >= pending[tp]:
                _finish(consumer, pending, tp)
                continue
            yield Record.of(message)
            if message.offset() >= pending[tp] - 1:
                _finish(consumer, pending, tp)
    finally:
        consumer.close()


def peek(broker: Broker, positions: Mapping[TP, int]) -> dict[TP, Record | None]:
    """The first committed record at or after each position; None where the partition ends
    before one (nothing left to read)."""
    found: dict[TP, Record | None] = {}
    pending = dict.fromkeys(positions, -1)
    if not pending:
        return found
    consumer = reader(broker)
    try:
        consumer.assign([TopicPartition(t, p, o) for (t, p), o in positions.items()])
        for message in _messages(consumer, broker.timeout, pending):
            tp = (message.topic(), message.partition())
            if tp in pending:
                found[tp] = None if message.error() is not None else Record.of(message)
                _finish(consumer, pending, tp)
    finally:
        consumer.close()
    return found


def _messages(consumer: Consumer, timeout: float, pending: dict[TP, int]) -> Iterator[Any]:
    """Messages and end-of-partition events until `pending` is empty; a silence longer than
    `timeout` while partitions are still pending is an error, not a hang. Transient errors (a
    broker node restarting) pass within that silence: the consumer fetches again by itself."""
    outage = Outage("reading records")
    last = time.monotonic()
    while pending:
        # consume() waits for a full batch or the timeout: keep the wait short.
        batch = consumer.consume(BATCH, timeout=0.05)
        if not batch and time.monotonic() - last > timeout:
            raise KafkaOperationError("reading records", f"no data for {timeout:g}s")
        for message in batch:
            error = message.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                if not is_transient(error):
                    raise KafkaOperationError("reading records", error)
                outage.failed(KafkaException(error))
                continue
            last = time.monotonic()
            outage.recovered()
            yield message


def _finish(consumer: Consumer, pending: dict[TP, int], tp: TP) -> None:
    if pending.pop(tp, None) is not None:
        consumer.pause([TopicPartition(*tp)])
