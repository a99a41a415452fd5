"""Follows `<service>.parked` while the service runs, so a release (a tombstone written by an
operator's redrive) unparks the key at once instead of at the next restart or rebalance.

It starts at the topic's end before the service first loads its parked keys: what came earlier
is in that load, what comes later is seen here. Parks need no following: the instance that owns
a partition is the one that parks its keys.
"""

from __future__ import annotations

import threading
import uuid

import structlog
from confluent_kafka import OFFSET_END, Consumer, TopicPartition

from conveyor.deadletter import logs
from conveyor.parking import codec
from conveyor.parking.keys import ParkedKeys

log = structlog.get_logger(__name__)


class ReleaseFollower:
    """A daemon thread applying tombstones of the parked topic to the in-memory view."""

    def __init__(self, service: str, topic: str, bootstrap_servers: str, keys: ParkedKeys) -> None:
        self._service = service
        self._topic = topic
        self._keys = keys
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": f"{service}.parked-follower.{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
            }
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="conveyor-parked", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        """Position at the end of every partition now, then follow on a thread."""
        metadata = self._consumer.list_topics(self._topic, timeout=timeout).topics[self._topic]
        partitions = sorted(metadata.partitions) if metadata.error is None else []
        ends = []
        for partition in partitions:
            tp = TopicPartition(self._topic, partition)
            _low, high = self._consumer.get_watermark_offsets(tp, timeout=timeout)
            ends.append(TopicPartition(self._topic, partition, high if high >= 0 else OFFSET_END))
        self._consumer.assign(ends)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._consumer.poll(0.2)
            if message is None or message.error() is not None or message.value() is not None:
                continue
            topic, key = codec.split_record_key(message.key() or b"")
            for released in self._keys.remove_everywhere(topic, key):
                log.info(
                    logs.KEY_RELEASED,
                    service=self._service,
                    topic=released.topic,
                    partition=released.partition,
                )
