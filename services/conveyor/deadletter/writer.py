"""Produces records to retry tiers, dead letters and the parked-keys topic, confirming each.

`write` returns a future that resolves when the broker has acknowledged the record (acks=all,
idempotent producer), or fails with `FailureWriteError`. The runtime completes the source offset
only once that future has succeeded. The writer owns its producer and a thread that serves its
delivery callbacks, so the consumer loop never blocks on these writes.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import KafkaError, Producer

from conveyor import logs
from conveyor.clients import Outage, wait_out, with_logs
from conveyor.clients.transient import is_refused
from conveyor.deadletter.errors import FailureWriteError
from conveyor.deadletter.record import Headers

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Written:
    """Where the broker stored a confirmed record."""

    topic: str
    partition: int
    offset: int


def producer_config(bootstrap_servers: str, delivery_timeout_ms: int = 30_000) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 1,  # parked keys wait on each dead letter in turn
        "compression.type": "lz4",
        # Same key, same partition as the Java client (DESIGN.md), for dead letters too.
        "partitioner": "murmur2_random",
        "delivery.timeout.ms": delivery_timeout_ms,
    }


class ConfirmedWriter:
    """Writes raw records with delivery confirmation; thread-safe."""

    def __init__(self, bootstrap_servers: str, *, delivery_timeout_ms: int = 30_000) -> None:
        self._producer = Producer(
            with_logs(producer_config(bootstrap_servers, delivery_timeout_ms))
        )
        self._closing = threading.Event()
        self._poller = threading.Thread(
            target=self._serve, name="conveyor-failure-writer", daemon=True
        )
        self._poller.start()

    def write(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Headers | None = None,
        partition: int | None = None,
    ) -> Future[Written]:
        """Queue one record; the future resolves once the broker confirmed it."""
        future: Future[Written] = Future()
        future.set_running_or_notify_cancel()

        def delivered(error: KafkaError | None, message: Any) -> None:
            if error is not None:
                log.error(logs.FAILURE_WRITE_FAILED, topic=topic, reason=str(error))
                refused = is_refused(error)
                future.set_exception(FailureWriteError(topic, str(error), refused=refused))
            else:
                future.set_result(Written(message.topic(), message.partition(), message.offset()))

        extra: dict[str, Any] = {} if partition is None else {"partition": partition}
        wire_headers: list[tuple[str, str | bytes | None]] = list(headers or [])
        try:
            for queue_full_retries_left in (1, 0):
                try:
                    self._producer.produce(
                        topic, value, key, headers=wire_headers, on_delivery=delivered, **extra
                    )
                    break
                except BufferError:
                    if not queue_full_retries_left:
                        raise
                    self._producer.poll(0.5)  # the local queue is full: let deliveries drain
        except Exception as error:  # KafkaException and friends: report through the future
            refused = is_refused(error)
            future.set_exception(FailureWriteError(topic, str(error), refused=refused))
        return future

    def missing_topics(self, names: list[str], timeout: float = 10.0) -> list[str]:
        """Those of `names` the cluster does not have (writes to them could never confirm);
        transient errors are waited out for up to `timeout` seconds, then raised."""
        metadata = wait_out(
            lambda: self._producer.list_topics(timeout=timeout),
            Outage("dead-letter topics"),
            timeout=timeout,
        )
        return sorted(set(names) - set(metadata.topics))

    def partition_count(self, names: list[str], timeout: float = 10.0) -> int:
        """How many partitions `names` have together (a missing topic counts none)."""
        topics = self._producer.list_topics(timeout=timeout).topics
        return sum(len(topics[name].partitions) for name in names if name in topics)

    def close(self, timeout: float = 30.0) -> int:
        """Flush what is queued and stop; returns how many records were still undelivered."""
        self._closing.set()
        self._poller.join(timeout=5)
        remaining: int = self._producer.flush(timeout)
        return remaining

    def _serve(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.1)
