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
from dataclasses import replace

import structlog

from conveyor import logs, naming
from conveyor.clients import Outage, Readiness, reader
from conveyor.deadletter.writer import ConfirmedWriter, Written
from conveyor.parking import codec, leaders
from conveyor.parking.codec import ParkedRecord
from conveyor.parking.follower import ReleaseFollower
from conveyor.parking.keys import ParkedKey, ParkedKeys
from conveyor.parking.keys import TopicPartition as SourcePartition

log = structlog.get_logger(__name__)


class ParkedKeyStore:
    """The parked keys of one ordered service."""

    def __init__(
        self,
        service: str,
        bootstrap_servers: str,
        writer: ConfirmedWriter,
        readiness: Readiness | None = None,
    ) -> None:
        self.service = service
        self.topic = naming.parked_topic(service)
        self._outage = Outage("parked keys", readiness, service=service, topic=self.topic)
        self._bootstrap = bootstrap_servers
        self._writer = writer
        self.keys = ParkedKeys()
        self._follower: ReleaseFollower | None = None

    def follow(self, timeout: float | None = None) -> None:
        """Apply releases written while the service runs (call before the first `load`);
        transient errors are waited out for up to `timeout` seconds (None: no limit)."""
        self._follower = ReleaseFollower(self.topic, self._bootstrap, self.on_tombstone)
        self._follower.start(timeout, self._outage)

    def close(self) -> None:
        if self._follower is not None:
            self._follower.stop()

    def load(self, assigned: Iterable[SourcePartition], timeout: float | None = None) -> int:
        """Read every parked key of the `assigned` source partitions; returns how many.
        Transient errors are waited out for up to `timeout` seconds (None: no limit), the
        process reporting not-ready meanwhile: consuming without the parked keys could run a
        parked key's events out of order."""
        wanted = set(assigned)
        found: dict[bytes, ParkedKey | None] = {}
        for record in self._read_all(timeout):
            found[record.key] = codec.apply(found.get(record.key), record)
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
        """Unpark a key at once (an operator's decision): a tombstone compacts it away."""
        self.keys.remove(topic, partition, key or b"")
        log.info(logs.KEY_RELEASED, service=self.service, topic=topic, partition=partition)
        return self._writer.write(self.topic, naming.parked_record_key(topic, key), None)

    def redriven(self, topic: str, key: bytes | None, through: int) -> Future[Written]:
        """A redriven key's last event is done: the tombstone that releases it wherever it is
        parked (`on_tombstone`, on the instance owning its source partition)."""
        record_key = naming.parked_record_key(topic, key)
        return self._writer.write(self.topic, record_key, None, codec.release_headers(through))

    def on_tombstone(self, record: ParkedRecord) -> None:
        """Apply a tombstone written while the service runs to the keys it parked before."""
        topic, key = naming.split_parked_record_key(record.key)
        for parked in self.keys.find(topic, key):
            if record.timestamp_ms < parked.parked_at_ms:
                continue  # about an earlier parking of this key
            through = record.released_through
            if record.redrive_partition is not None:
                self.keys.set_releasing(parked, True)
            elif through is not None and parked.diverted_through > through:
                self._park_again(parked, record.timestamp_ms)
            elif self.keys.discard(parked):
                log.info(
                    logs.KEY_RELEASED,
                    service=self.service,
                    topic=parked.topic,
                    partition=parked.partition,
                )

    def _park_again(self, parked: ParkedKey, released_at_ms: int) -> None:
        """Events of the key went to the dead letters after its redrive was planned: the redrive
        did not cover them, so the key stays parked (in order) until they are redriven too."""
        now_ms = max(round(time.time() * 1000), released_at_ms + 1)
        self.park(replace(parked, releasing=False, parked_at_ms=now_ms))

    def _read_all(self, timeout: float | None) -> list[ParkedRecord]:
        """Every record of the topic up to its end now; a read a transient error interrupts
        (a broker node down) starts again, until `timeout` (None: as long as it takes)."""
        return leaders.until_led(
            lambda: self._read_once(timeout), self.topic, timeout, self._outage
        )

    def _read_once(self, timeout: float | None) -> list[ParkedRecord]:
        config = {"bootstrap.servers": self._bootstrap}
        consumer = reader.assign_only(config, f"{self.topic}-loader.{uuid.uuid4().hex[:8]}")
        try:
            attempt = reader.attempt_timeout(timeout)
            messages = reader.read_to_end(consumer, self.topic, attempt, self._outage)
            return [ParkedRecord.of(message) for message in messages]
        finally:
            consumer.close()
