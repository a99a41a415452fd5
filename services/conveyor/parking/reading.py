"""Reading side topics back when partitions are assigned: given offset ranges of one topic, to
their end, with an assign-only consumer that never joins a group or commits.

The parked keys (from the start of `<service>.parked`) and the recent dead letters (from a time
in `<service>.dlq`) are both read this way, before the assigned partitions are consumed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from conveyor.clients import with_logs
from conveyor.errors import ConveyorError


def loader(bootstrap_servers: str, purpose: str) -> Consumer:
    """An assign-only consumer; its group id is never joined, only required by the client."""
    return Consumer(
        with_logs(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": f"{purpose}.{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            }
        )
    )


def read_ranges(
    consumer: Consumer,
    topic: str,
    ranges: Mapping[int, tuple[int, int]],
    timeout: float,
    error: Callable[[str], ConveyorError],
) -> list[Any]:
    """The messages of `topic` in `[start, end)` of each partition (partition -> range), in log
    order per partition; `error(reason)` is raised when a read fails or stalls `timeout` s, from
    the client's error (so `conveyor.clients.is_transient` tells whether to read again)."""
    ends = {partition: end for partition, (start, end) in ranges.items() if start < end}
    if not ends:
        return []
    consumer.assign([TopicPartition(topic, p, ranges[p][0]) for p in sorted(ends)])
    messages: list[Any] = []
    while ends:
        message: Any = consumer.poll(timeout)
        if message is None:
            stalled = KafkaError(KafkaError._TIMED_OUT, f"no record for {timeout:g}s")
            raise error(f"reading {topic} took longer than {timeout:g}s") from KafkaException(
                stalled
            )
        failure = message.error()
        if failure is not None:
            if failure.code() != KafkaError._PARTITION_EOF:
                raise error(f"reading {topic}: {failure}") from KafkaException(failure)
            ends.pop(message.partition(), None)
            continue
        end = ends.get(message.partition())
        if end is None or message.offset() >= end:
            continue
        messages.append(message)
        if message.offset() >= end - 1:
            del ends[message.partition()]
    return messages
