"""The service's recent dead letters, read back when partitions are assigned, so an event that a
redelivery brings again is not dead-lettered twice (`conveyor.deadletter.once`).

Only the records written since `since_ms` are read (the broker finds where they start by time),
so a load costs the dead letters of that window, never the whole topic, and the dead-letter
breaker bounds how many a window can hold. A redelivered event was read before the previous owner
stopped, so its dead letter is in the window as long as the window is longer than any event's
stay between its first read and its commit (retries in place and slow events included).
"""

from __future__ import annotations

import uuid
from typing import Any

from confluent_kafka import KafkaException, TopicPartition

from conveyor.clients import KafkaUnavailableError, Outage, TopicReadError, reader, wait_out
from conveyor.deadletter.errors import DeadLettersLoadError
from conveyor.deadletter.once import LetterId
from conveyor.deadletter.writer import Written
from conveyor.parking import leaders
from conveyor.records import message_headers

Letter = tuple[LetterId, Written, int]  # the id, where it is, when it was written (epoch ms)


def read_recent(
    bootstrap_servers: str,
    topic: str,
    since_ms: int,
    timeout: float,
    outage: Outage | None = None,
) -> list[Letter]:
    """The dead letters of `topic` written since `since_ms`; a read a transient error interrupts
    (a broker node down) starts again, for up to `timeout` seconds."""
    outage = outage or Outage("recent dead letters", topic=topic)
    try:
        messages = wait_out(
            lambda: _read(bootstrap_servers, topic, since_ms, timeout, outage),
            outage,
            timeout=timeout,
        )
    except KafkaUnavailableError as error:
        raise DeadLettersLoadError(f"reading {topic}: {error}") from error
    letters = []
    for message in messages:
        letter = LetterId.of_headers(message_headers(message))
        if letter is not None:
            where = Written(message.topic(), message.partition(), message.offset())
            letters.append((letter, where, message.timestamp()[1]))
    return letters


def _read(
    bootstrap_servers: str, topic: str, since_ms: int, timeout: float, outage: Outage
) -> list[Any]:
    config = {"bootstrap.servers": bootstrap_servers}
    consumer = reader.assign_only(config, f"{topic}-loader.{uuid.uuid4().hex[:8]}")
    try:
        marks = leaders.watermarks(consumer, topic, timeout, outage)
        wanted = [TopicPartition(topic, partition, since_ms) for partition in sorted(marks)]
        ranges: dict[reader.TP, tuple[int, int | None]] = {}
        for tp in consumer.offsets_for_times(wanted, timeout=timeout):
            if tp.error is not None:
                raise DeadLettersLoadError(
                    f"finding {topic}'s recent records: {tp.error}"
                ) from KafkaException(tp.error)
            low, high = marks[tp.partition]
            # -1: nothing written since then on this partition
            start = max(tp.offset, low) if tp.offset >= 0 else high
            ranges[(topic, tp.partition)] = (start, high)
        return list(reader.read_ranges(consumer, ranges, timeout, outage))
    except KafkaException as error:
        raise DeadLettersLoadError(f"reading {topic}: {error.args[0]}") from error
    except TopicReadError as error:
        raise DeadLettersLoadError(str(error)) from error
    finally:
        consumer.close()
