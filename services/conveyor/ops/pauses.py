"""`conveyor pause|resume`: write and read the operators' pauses in the control topic."""

from __future__ import annotations

import time

from confluent_kafka import Producer

from conveyor import naming
from conveyor.control.pauses import Paused, parse_key, pause_key, pause_value
from conveyor.ops.broker import Broker
from conveyor.ops.compacted import read_table
from conveyor.ops.errors import KafkaOperationError, TopicNotFoundError


def paused(broker: Broker, service: str, topic: str = naming.CONTROL_TOPIC) -> Paused:
    """The pauses of `service` now in force (declared topic names)."""
    return Paused.of(service, read_table(broker, topic))


def pause(
    broker: Broker, service: str, topic: str | None, control: str = naming.CONTROL_TOPIC
) -> None:
    """Pause `service` (every topic it reads, or `topic`) until resumed."""
    _write(broker, control, [(pause_key(service, topic), pause_value("conveyor pause", _now()))])


def resume(
    broker: Broker, service: str, topic: str | None, control: str = naming.CONTROL_TOPIC
) -> int:
    """Withdraw the pause of `topic`, or all of `service`'s pauses; returns how many."""
    keys = [
        key
        for key in read_table(broker, control)
        if (parsed := parse_key(key)) is not None
        and parsed[0] == service
        and (topic is None or parsed[1] == topic)
    ]
    _write(broker, control, [(key, None) for key in keys])
    return len(keys)


def _write(broker: Broker, topic: str, records: list[tuple[bytes, bytes | None]]) -> None:
    if topic not in broker.topics():
        raise TopicNotFoundError(topic)
    producer = Producer(broker.client_config(**{"enable.idempotence": True, "acks": "all"}))
    failures: list[str] = []

    def report(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    for key, value in records:
        producer.produce(topic, value, key, on_delivery=report)
    left = producer.flush(broker.timeout)
    if left or failures:
        raise KafkaOperationError(f"writing to {topic!r}", failures or f"{left} not delivered")


def _now() -> int:
    return int(time.time() * 1000)
