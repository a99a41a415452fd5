"""The cancels of delayed events: a compacted topic keyed by event id, read whole by every
scheduler (cancels are few) and caught up before each delivery, so a cancel the broker
acknowledged before the scheduler starts delivering the event wins over the delivery."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from conveyor import naming
from conveyor.clients import Outage, wait_out, with_logs
from conveyor.delay.errors import SchedulerError

CANCELLED = b"cancelled"  # the value of a cancel record; a tombstone (None) withdraws the cancel
_WATERMARK_TIMEOUT = 10.0


class CancelLog:
    """The ids of cancelled delayed events, kept current by reading the cancel topic."""

    def __init__(self, bootstrap_servers: str, topic: str = naming.DELAY_CANCEL_TOPIC) -> None:
        self.topic = topic
        self.cancelled: set[str] = set()
        self._consumer = Consumer(
            with_logs(
                {
                    "bootstrap.servers": bootstrap_servers,
                    "group.id": f"{naming.SCHEDULER_GROUP}-cancels",  # never joined nor committed
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "isolation.level": "read_committed",
                    "enable.partition.eof": False,
                }
            )
        )
        metadata = self._consumer.list_topics(topic, timeout=_WATERMARK_TIMEOUT)
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            raise SchedulerError(f"the cancel topic {topic!r} is missing: conveyor topics apply")
        self._partitions = [
            TopicPartition(topic, p, OFFSET_BEGINNING) for p in described.partitions
        ]
        self._consumer.assign(self._partitions)
        self._outage = Outage("delay cancels", topic=topic)

    def catch_up(self, timeout: float = _WATERMARK_TIMEOUT) -> set[str]:
        """Read every cancel written before this call; returns the ids cancelled by it.
        A broker node lost meanwhile is waited out, as long as it takes: delivering before the
        cancels are known could deliver a cancelled event."""
        ends = wait_out(lambda: self._ends(timeout), self._outage)
        added: set[str] = set()
        deadline = time.monotonic() + timeout
        while not self._reached(ends) and time.monotonic() < deadline:
            for message in self._consumer.consume(500, 0.05):
                if message.error() is None:
                    self._apply(message, added)
        return added

    def _ends(self, timeout: float) -> dict[int, int]:
        return {
            tp.partition: self._consumer.get_watermark_offsets(tp, timeout=timeout)[1]
            for tp in self._partitions
        }

    def _reached(self, ends: dict[int, int]) -> bool:
        positions = self._consumer.position(self._partitions)
        return all(tp.offset >= ends[tp.partition] or ends[tp.partition] <= 0 for tp in positions)

    def _apply(self, message: Any, added: set[str]) -> None:
        key = message.key()
        if key is None:
            return
        event_id = key.decode(errors="replace")
        if message.value() is None:
            self.cancelled.discard(event_id)
        else:
            self.cancelled.add(event_id)
            added.add(event_id)

    def close(self) -> None:
        self._consumer.close()
