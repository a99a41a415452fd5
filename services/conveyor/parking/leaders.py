"""Watermarks of the parked-keys topic once its partitions have leaders.

Right after `<service>.parked` is created, the broker answers metadata before it has elected
leaders; when a broker node dies, its connections are torn down and its partitions move to
another leader. Both pass: they are waited out (`conveyor.clients.wait_out`), reporting the
process not-ready meanwhile. A topic that stays missing, or a refusal, is a `ParkedKeysLoadError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

from confluent_kafka import Consumer, KafkaException

from conveyor.clients import KafkaUnavailableError, Outage, TopicReadError, reader, wait_out
from conveyor.parking.errors import ParkedKeysLoadError

T = TypeVar("T")

NEW_TOPIC_GRACE: Final = 30.0  # seconds a missing parked topic may take to appear


def until_led(
    call: Callable[[], T], topic: str, timeout: float | None, outage: Outage | None = None
) -> T:
    """`call()`, tried again while it fails with a transient error (no leader yet, a broker
    down); `ParkedKeysLoadError` naming the topic on any other error, or when it still fails
    after `timeout` seconds (None: wait as long as it takes)."""
    outage = outage or Outage("topic reads", topic=topic)
    grace = NEW_TOPIC_GRACE if timeout is None else min(timeout, NEW_TOPIC_GRACE)
    try:
        return wait_out(call, outage, timeout=timeout, new_topic_grace=grace)
    except KafkaUnavailableError as error:
        raise ParkedKeysLoadError(
            f"{topic} has partitions without a leader after {error.waited:.1f}s "
            f"({error.last}); is it created, and are its brokers up?"
        ) from error
    except (KafkaException, TopicReadError) as error:
        raise ParkedKeysLoadError(
            f"reading {topic}: {error}; is it created (`conveyor topics apply`)?"
        ) from error


def watermarks(
    consumer: Consumer, topic: str, timeout: float | None, outage: Outage | None = None
) -> dict[int, tuple[int, int]]:
    """Partition -> (low, high) of every partition of `topic`, waiting for leaders first."""
    attempt = reader.attempt_timeout(timeout)
    return until_led(lambda: reader.watermarks(consumer, topic, attempt), topic, timeout, outage)
