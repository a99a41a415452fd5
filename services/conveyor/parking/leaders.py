"""Watermarks of the parked-keys topic once its partitions have leaders.

Right after `<service>.parked` is created, the broker answers metadata before it has elected
leaders, and watermark requests fail with NOT_LEADER_FOR_PARTITION or LEADER_NOT_AVAILABLE.
Those clear within seconds, so they are retried until a deadline, then reported clearly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from conveyor.parking.errors import ParkedKeysLoadError

T = TypeVar("T")

# Errors of a topic (or partition) whose leaders are still being elected.
NOT_LED_YET: Final = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError._UNKNOWN_TOPIC,
    }
)
RETRY_PAUSE: Final = 0.2  # seconds between tries


class NotLedYet(Exception):  # noqa: N818 - a retry signal inside this module, never escapes
    """A partition without a leader yet (retried)."""


def until_led(call: Callable[[], T], topic: str, timeout: float) -> T:
    """`call()`, tried again while it fails because `topic`'s partitions have no leader yet;
    `ParkedKeysLoadError` naming the topic when they still have none after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except NotLedYet as error:
            reason = str(error)
        except KafkaException as error:
            code = error.args[0].code() if error.args else None
            if code not in NOT_LED_YET:
                raise ParkedKeysLoadError(f"reading {topic}: {error}") from error
            reason = str(error.args[0])
        if time.monotonic() + RETRY_PAUSE > deadline:
            raise ParkedKeysLoadError(
                f"{topic} has partitions without a leader after {timeout:g}s ({reason}); "
                "is it created, and are its brokers up?"
            )
        time.sleep(RETRY_PAUSE)


def watermarks(consumer: Consumer, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
    """Partition -> (low, high) of every partition of `topic`, waiting for leaders first."""

    def read() -> dict[int, tuple[int, int]]:
        metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
        if metadata.error is not None:
            raise NotLedYet(str(metadata.error))
        if not metadata.partitions:
            raise NotLedYet("no partitions yet")
        leaderless = [p for p, info in metadata.partitions.items() if info.leader < 0]
        if leaderless:
            raise NotLedYet(f"no leader for partitions {sorted(leaderless)}")
        marks = {}
        for partition in sorted(metadata.partitions):
            tp = TopicPartition(topic, partition)
            marks[partition] = consumer.get_watermark_offsets(tp, timeout=timeout)
        return marks

    return until_led(read, topic, timeout)
