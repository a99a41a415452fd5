"""Test-only event type and codec, and helpers to run a service in-process against the broker."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import fastavro
from confluent_kafka import Consumer, Producer, TopicPartition

from conveyor import naming
from conveyor.events.base import Event
from conveyor.runtime import FailureHandler, Service, ServiceSettings, run_service
from conveyor.settings import Settings

_PING_SCHEMA = fastavro.parse_schema(
    {
        "type": "record",
        "name": "Ping",
        "namespace": "conveyor.test",
        "fields": [
            {"name": "event_id", "type": "string"},
            {"name": "occurred_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "key", "type": "string"},
            {"name": "seq", "type": "int"},
        ],
    }
)


class Ping(Event):
    """A tiny test event: a key and a sequence number."""

    TOPIC: ClassVar[str] = "runtime.ping"
    KEY_FIELD: ClassVar[str] = "entity"
    AVRO_NAME: ClassVar[str] = "conveyor.test.Ping"

    entity: str
    seq: int = 0


class PingCodec:
    """Schemaless Avro for `Ping` only; the real codec lives in `conveyor.codec`."""

    content_type = naming.AVRO_CONTENT_TYPE

    def encode(self, event: Event) -> bytes:
        assert isinstance(event, Ping)
        out = io.BytesIO()
        record = {
            "event_id": str(event.event_id),
            "occurred_at": event.occurred_at,
            "key": event.entity,
            "seq": event.seq,
        }
        fastavro.schemaless_writer(out, _PING_SCHEMA, record)
        return out.getvalue()

    def decode(self, data: bytes, reader: type[Event] | None = None) -> Event:
        record: Any = fastavro.schemaless_reader(io.BytesIO(data), _PING_SCHEMA, None)
        return Ping(
            event_id=record["event_id"],
            occurred_at=record["occurred_at"],
            entity=record["key"],
            seq=record["seq"],
        )


def produce_pings(
    bootstrap: str,
    topic: str,
    keys: list[str],
    per_key: int,
    partition_of: Callable[[str], int] | None = None,
) -> list[Ping]:
    """Produce `per_key` pings for each key, interleaved across keys; returns them in send order."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 5, "partitioner": "murmur2_random"}
    )
    codec = PingCodec()
    sent: list[Ping] = []
    for seq in range(per_key):
        for key in keys:
            ping = Ping(entity=key, seq=seq)
            kwargs: dict[str, Any] = {}
            if partition_of is not None:
                kwargs["partition"] = partition_of(key)
            producer.produce(
                topic,
                key=key.encode(),
                value=codec.encode(ping),
                headers=[(naming.EVENT_TYPE, Ping.AVRO_NAME.encode())],
                **kwargs,
            )
            sent.append(ping)
    assert producer.flush(30) == 0
    return sent


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        tps = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        consumer.close()


def fast_settings(**overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "http_port": None,
        "commit_interval": 0.2,
        "shutdown_deadline": 10.0,
        "retry_delay": 0.1,
    }
    values.update(overrides)
    return ServiceSettings(**values)


@contextmanager
def running(
    service: Service,
    bootstrap: str,
    settings: ServiceSettings,
    *,
    failures: FailureHandler | None = None,
    exit_code: int = 0,
) -> Iterator[list[int]]:
    """Run `service` in a background thread; stops it (gracefully) on exit and checks its exit
    code. The yielded list receives the exit code once the service has returned."""
    stop = threading.Event()
    result: list[int] = []
    base = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    thread = threading.Thread(
        target=lambda: result.append(
            run_service(service, base, settings, PingCodec(), failures=failures, stop=stop)
        ),
        daemon=True,
    )
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join(30)
        assert result == [exit_code], "the service did not stop as expected"


def wait_until(
    condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition"
) -> None:
    """Polls `condition`; fails after `timeout` seconds (a hang guard, not a timing claim)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
