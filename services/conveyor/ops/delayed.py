"""What waits in the delay topic: per destination topic, how many events and the next due time.

Read from the broker like every status: the scheduler group's committed offsets (and the offsets
it delivered beyond them, from the commit metadata), the records after them, the cancels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from conveyor import naming
from conveyor.delay.envelope import Envelope
from conveyor.delay.progress import DeliveredAhead
from conveyor.ops.broker import TP, Broker
from conveyor.ops.compacted import read_table
from conveyor.ops.reader import scan


@dataclass
class PendingDelayed:
    """Delayed events of one destination topic not delivered yet."""

    events: int = 0
    next_due_ms: int | None = None


@dataclass
class DelayedStatus:
    by_topic: dict[str, PendingDelayed] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(w.events for w in self.by_topic.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            topic: {"waiting": w.events, "next_due_ms": w.next_due_ms}
            for topic, w in sorted(self.by_topic.items())
        }


def delayed_status(
    broker: Broker,
    delay_topic: str = naming.DELAY_TOPIC,
    cancel_topic: str = naming.DELAY_CANCEL_TOPIC,
    group: str = naming.SCHEDULER_GROUP,
) -> DelayedStatus | None:
    """None when the deployment has no delay topic."""
    if delay_topic not in broker.topics():
        return None
    parts = broker.partitions(delay_topic)
    committed = _committed(broker, group, parts)
    marks = broker.watermarks(parts)
    ranges = {tp: (max(committed[tp][0], low), high) for tp, (low, high) in marks.items()}
    cancelled = {key.decode(errors="replace") for key in read_table(broker, cancel_topic)}
    status = DelayedStatus()
    for record in scan(broker, ranges):
        if record.offset in committed[record.tp][1]:
            continue
        envelope = Envelope.read(list(record.headers))
        if envelope is None or envelope.event_id in cancelled:
            continue
        waiting = status.by_topic.setdefault(envelope.destination, PendingDelayed())
        waiting.events += 1
        if waiting.next_due_ms is None or envelope.due_ms < waiting.next_due_ms:
            waiting.next_due_ms = envelope.due_ms
    return status


def _committed(broker: Broker, group: str, parts: list[TP]) -> dict[TP, tuple[int, DeliveredAhead]]:
    consumer = Consumer(broker.client_config(**{"group.id": group, "enable.auto.commit": False}))
    try:
        found = consumer.committed([TopicPartition(t, p) for t, p in parts], timeout=broker.timeout)
    finally:
        consumer.close()
    result: dict[TP, tuple[int, DeliveredAhead]] = {}
    for tp in found:
        offset = max(tp.offset, 0)
        result[(tp.topic, tp.partition)] = (offset, DeliveredAhead.decode(tp.metadata, offset))
    return result
