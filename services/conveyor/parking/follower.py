"""Follows `<service>.parked` while the service runs, so a release (a tombstone written by an
operator's redrive, or by the runtime when a redriven key is done) applies at once instead of at
the next restart or rebalance.

It starts at the topic's end before the service first loads its parked keys: what came earlier
is in that load, what comes later is seen here. Parks need no following: the instance that owns
a partition is the one that parks its keys.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import structlog
from confluent_kafka import Consumer, TopicPartition

from conveyor.clients import Outage, with_logs
from conveyor.parking import leaders
from conveyor.parking.codec import ParkedRecord

log = structlog.get_logger(__name__)


class ReleaseFollower:
    """A daemon thread handing every tombstone of the parked topic to `on_tombstone`."""

    def __init__(
        self, topic: str, bootstrap_servers: str, on_tombstone: Callable[[ParkedRecord], None]
    ) -> None:
        self._topic = topic
        self._on_tombstone = on_tombstone
        self._consumer = Consumer(
            with_logs(
                {
                    "bootstrap.servers": bootstrap_servers,
                    "group.id": f"{topic}-follower.{uuid.uuid4().hex[:8]}",
                    "enable.auto.commit": False,
                }
            )
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="conveyor-parked", daemon=True)

    def start(self, timeout: float | None = None, outage: Outage | None = None) -> None:
        """Position at the end of every partition now (once they have leaders: a topic just
        created has none for a moment), then follow on a thread."""
        marks = leaders.watermarks(self._consumer, self._topic, timeout, outage)
        self._consumer.assign(
            [TopicPartition(self._topic, p, high) for p, (_low, high) in sorted(marks.items())]
        )
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
            self._on_tombstone(ParkedRecord.of(message))
