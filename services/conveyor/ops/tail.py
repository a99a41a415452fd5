"""Tail: read a topic from its end, its beginning or a time, and describe each record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, TopicPartition

from conveyor.ops.broker import Broker
from conveyor.ops.decoding import describe_value
from conveyor.ops.errors import KafkaOperationError
from conveyor.ops.reader import reader
from conveyor.ops.records import Record
from conveyor.ops.timeparse import iso
from conveyor.typing import Codec


@dataclass(frozen=True)
class TailOptions:
    from_beginning: bool = False
    from_time_ms: int | None = None  # else: from the end, new records only
    key: str | None = None
    max_events: int | None = None
    stop_at_end: bool = False  # stop once every partition has been read to its end


def start_offsets(broker: Broker, topic: str, options: TailOptions) -> dict[int, int]:
    parts = broker.partitions(topic)
    marks = broker.watermarks(parts)
    if options.from_beginning:
        return {p: marks[(t, p)][0] for t, p in parts}
    if options.from_time_ms is not None:
        found = broker.offsets_for_time(parts, options.from_time_ms)
        return {p: (o if o is not None else marks[(t, p)][1]) for (t, p), o in found.items()}
    return {p: marks[(t, p)][1] for t, p in parts}


def tail(
    broker: Broker,
    topic: str,
    options: TailOptions,
    stopped: Callable[[], bool] = lambda: False,
) -> Iterator[Record]:
    """Records of `topic` as they come, filtered by key, until `max_events`, the end (with
    `stop_at_end`) or `stopped()`."""
    offsets = start_offsets(broker, topic, options)
    consumer = reader(broker)
    key = options.key.encode() if options.key is not None else None
    at_end: set[int] = set()
    seen = 0
    try:
        consumer.assign([TopicPartition(topic, p, o) for p, o in offsets.items()])
        while not stopped():
            if options.stop_at_end and len(at_end) == len(offsets):
                return
            for message in consumer.consume(500, timeout=0.1):
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        raise KafkaOperationError(f"reading {topic}", error)
                    at_end.add(message.partition() or 0)
                    continue
                if key is not None and message.key() != key:
                    continue
                yield Record.of(message)
                seen += 1
                if options.max_events is not None and seen >= options.max_events:
                    return
    finally:
        consumer.close()


def describe(record: Record, codec: Codec) -> dict[str, Any]:
    """What a person wants of a record: where it is, its key, headers and the decoded event."""
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": iso(record.timestamp_ms),
        "key": record.key_text,
        "headers": record.headers_text(),
        **describe_value(codec, record.value),
    }
