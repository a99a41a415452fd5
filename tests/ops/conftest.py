"""Helpers for the operations tests: a service's topics, a simulated service that commits
offsets (a plain consumer in the service's group), and dead letters written by hand with the
contract headers, so the commands are tested against the broker without the runtime."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from conveyor import naming
from conveyor.ops.broker import TP, Broker
from conveyor.ops.reader import scan
from conveyor.ops.records import Record
from tests.conftest import create_topic

Header = tuple[str, bytes]


@dataclass
class Svc:
    """A simulated service on the test broker: its name is its group and its topics' prefix."""

    name: str
    bootstrap: str
    producer: Producer = field(init=False)

    def __post_init__(self) -> None:
        self.producer = Producer(
            {"bootstrap.servers": self.bootstrap, "partitioner": "murmur2_random"}
        )

    def topic(
        self, suffix: str, partitions: int = 1, config: Mapping[str, str] | None = None
    ) -> str:
        """Create `<name>.<suffix>` (e.g. `retry.1`, `dlq`) or, for `input`, `<name>-input`."""
        name = f"{self.name}-input" if suffix == "input" else f"{self.name}.{suffix}"
        return create_topic(self.bootstrap, name, partitions, config=config)

    def produce(
        self,
        topic: str,
        key: str | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Sequence[Header] = (),
    ) -> None:
        extra: dict[str, object] = {}
        if partition is not None:
            extra["partition"] = partition
        if timestamp_ms is not None:
            extra["timestamp"] = timestamp_ms
        self.producer.produce(
            topic,
            key=None if key is None else key.encode(),
            value=value,
            headers=list(headers),
            **extra,  # type: ignore[arg-type]
        )

    def flush(self) -> None:
        assert self.producer.flush(30) == 0

    def commit(self, offsets: dict[TP, int]) -> None:
        """Commit as the service would, without joining the group (no live member)."""
        config = {"bootstrap.servers": self.bootstrap, "group.id": self.name}
        consumer = Consumer({**config, "enable.auto.commit": False})
        try:
            parts = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
            consumer.commit(offsets=parts, asynchronous=False)
        finally:
            consumer.close()

    @contextmanager
    def running(self, topic: str) -> Iterator[Consumer]:
        """A live member of the service's group, subscribed to `topic` until the block ends."""
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": self.name,
                "group.protocol": "consumer",
                "client.id": f"{self.name}-worker",
                "enable.auto.commit": False,
                "auto.offset.reset": "latest",
            }
        )
        consumer.subscribe([topic])
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(0.2)
        assert consumer.assignment(), "the simulated service got no partitions"
        try:
            yield consumer
        finally:
            consumer.close()


def dead_letter_headers(
    original_topic: str,
    original_offset: int,
    error_type: str,
    *,
    original_partition: int = 0,
    failed_at_ms: int | None = None,
    redrive_count: int | None = None,
    event_type: str = "conveyor.events.UserSignedUp",
) -> list[Header]:
    """The headers DESIGN.md gives a dead letter, as the runtime writes them."""
    failed = str(failed_at_ms or int(time.time() * 1000)).encode()
    headers = [
        (naming.EVENT_TYPE, event_type.encode()),
        (naming.ORIGINAL_TOPIC, original_topic.encode()),
        (naming.ORIGINAL_PARTITION, str(original_partition).encode()),
        (naming.ORIGINAL_OFFSET, str(original_offset).encode()),
        (naming.ORIGINAL_TIMESTAMP, failed),
        (naming.CONSUMER_GROUP, b"svc"),
        (naming.ATTEMPTS, b"3"),
        (naming.ERROR_TYPE, error_type.encode()),
        (naming.ERROR_MESSAGE, b"it broke"),
        (naming.FIRST_FAILED_AT, failed),
        (naming.LAST_FAILED_AT, failed),
    ]
    if redrive_count is not None:
        headers.append((naming.REDRIVE_COUNT, str(redrive_count).encode()))
    return headers


def read_topic(broker: Broker, topic: str) -> list[Record]:
    """Every committed record of `topic` now (transactions committed just before included)."""
    parts = broker.partitions(topic)
    assert broker.wait_stable(parts, timeout=10)
    return list(scan(broker, broker.watermarks(parts)))


@pytest.fixture
def svc(kafka_bootstrap: str, request: pytest.FixtureRequest) -> Svc:
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]
    return Svc(f"svc-{slug}-{uuid.uuid4().hex[:8]}", kafka_bootstrap)


@pytest.fixture
def broker(kafka_bootstrap: str) -> Broker:
    return Broker.connect(kafka_bootstrap, timeout=10)
