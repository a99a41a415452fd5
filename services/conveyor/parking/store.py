"""Parked keys kept in Kafka, so they survive a restart and a rebalance.

`load` reads the compacted `<service>.parked` topic to its end when partitions are assigned;
`park` and `release` update the in-memory view at once and return a future that resolves when the
broker has the record (the runtime completes the parked event's offset only after that).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future

import structlog
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from conveyor import naming
from conveyor.deadletter import logs
from conveyor.deadletter.writer import RecordWriter, Written
from conveyor.parking import codec
from conveyor.parking.errors import ParkedKeysLoadError
from conveyor.parking.follower import ReleaseFollower
from conveyor.parking.keys import ParkedKey, ParkedKeys
from conveyor.parking.keys import TopicPartition as SourcePartition

log = structlog.get_logger(__name__)


class ParkedKeyStore:
    """The parked keys of one ordered service."""

    def __init__(self, service: str, bootstrap_servers: str, writer: RecordWriter) -> None:
        self.service = service
        self.topic = naming.parked_topic(service)
        self._bootstrap = bootstrap_servers
        self._writer = writer
        self.keys = ParkedKeys()
        self._follower: ReleaseFollower | None = None

    def follow(self) -> None:
        """Apply releases written while the service runs (call before the first `load`)."""
        self._follower = ReleaseFollower(self.service, self.topic, self._bootstrap, self.keys)
        self._follower.start()

    def close(self) -> None:
        if self._follower is not None:
            self._follower.stop()

    def load(self, assigned: Iterable[SourcePartition], timeout: float = 30.0) -> int:
        """Read every parked key of the `assigned` source partitions; returns how many."""
        wanted = set(assigned)
        found: dict[bytes, ParkedKey | None] = {}
        for record_key, value in self._read_all(timeout):
            found[record_key] = None if value is None else codec.decode(value)
        count = 0
        for parked in found.values():
            if parked is not None and (parked.topic, parked.partition) in wanted:
                self.keys.add(parked)
                count += 1
        log.info(logs.PARKED_KEYS_LOADED, service=self.service, parked_keys=count)
        return count

    def forget(self, revoked: Iterable[SourcePartition]) -> None:
        self.keys.forget(list(revoked))

    def park(self, parked: ParkedKey) -> Future[Written]:
        self.keys.add(parked)
        key, value = codec.encode(parked)
        log.warning(
            logs.KEY_PARKED,
            service=self.service,
            topic=parked.topic,
            partition=parked.partition,
            behind=parked.behind,
        )
        return self._writer.write(self.topic, key, value)

    def release(self, topic: str, partition: int, key: bytes | None) -> Future[Written]:
        """Unpark a key (after its dead letters were redriven): a tombstone compacts it away."""
        self.keys.remove(topic, partition, key or b"")
        log.info(logs.KEY_RELEASED, service=self.service, topic=topic, partition=partition)
        return self._writer.write(self.topic, codec.record_key(topic, key), None)

    def _read_all(self, timeout: float) -> list[tuple[bytes, bytes | None]]:
        consumer = Consumer(
            {
                "bootstrap.servers": self._bootstrap,
                "group.id": f"{self.service}.parked-loader.{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            }
        )
        try:
            deadline = time.monotonic() + timeout
            metadata = consumer.list_topics(self.topic, timeout=timeout).topics[self.topic]
            while metadata.error is not None:  # a topic just created may not be known yet
                if time.monotonic() > deadline:
                    raise ParkedKeysLoadError(f"{self.topic}: {metadata.error}; is it created?")
                time.sleep(0.2)
                metadata = consumer.list_topics(self.topic, timeout=timeout).topics[self.topic]
            partitions = sorted(metadata.partitions)
            todo: set[int] = set()
            assignment = []
            for partition in partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, partition), timeout=timeout
                )
                if high > low:
                    todo.add(partition)
                    assignment.append(TopicPartition(self.topic, partition, OFFSET_BEGINNING))
            if not todo:
                return []
            consumer.assign(assignment)
            records: list[tuple[bytes, bytes | None]] = []
            while todo:
                message = consumer.poll(timeout)
                if message is None:
                    raise ParkedKeysLoadError(f"reading {self.topic} took longer than {timeout}s")
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        todo.discard(message.partition())
                        continue
                    raise ParkedKeysLoadError(f"reading {self.topic}: {error}")
                records.append((message.key() or b"", message.value()))
            return records
        finally:
            consumer.close()
