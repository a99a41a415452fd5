"""The process's one Kafka producer, its poll thread, and bounded backpressure.

Design: a daemon thread polls the producer, so delivery reports settle handles promptly whether
or not the application calls into the publisher again; `publish` itself never touches the network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import structlog
from confluent_kafka import KafkaError, KafkaException, Producer

from conveyor import logs
from conveyor.clients import with_logs
from conveyor.publish.config import PublisherConfig
from conveyor.publish.errors import PublisherClosedError, PublisherFatalError, QueueFullError
from conveyor.publish.message import Headers

log = structlog.get_logger("conveyor.publish")
DeliveryCallback = Callable[[Any, Any], None]
_POLL_INTERVAL = 0.1
_BACKPRESSURE_STEP = 0.01


class KafkaSender:
    """Hands encoded messages to librdkafka; owns the producer's lifecycle."""

    def __init__(self, config: PublisherConfig) -> None:
        self.config = config
        self._fatal: KafkaError | None = None
        self._closed = False
        self._producer = Producer(with_logs({**config.librdkafka(), "error_cb": self._on_error}))
        self._stop = threading.Event()
        self._poller = threading.Thread(
            target=self._poll_loop, name="conveyor-publisher-poll", daemon=True
        )
        self._poller.start()

    def produce(
        self, topic: str, key: bytes, value: bytes, headers: Headers, on_delivery: DeliveryCallback
    ) -> None:
        """Queue one message; while the local queue is full, wait for room for up to the
        backpressure timeout, then `QueueFullError`."""
        if not self.try_produce(topic, key, value, headers, on_delivery):
            self.wait_for_room(topic, key, value, headers, on_delivery)

    def try_produce(
        self, topic: str, key: bytes, value: bytes, headers: Headers, on_delivery: DeliveryCallback
    ) -> bool:
        """Queue one message; False when the local queue is full (nothing was queued)."""
        if self._closed or self._fatal is not None:
            self._check_usable()
        try:
            self._producer.produce(topic, value, key, headers=headers, on_delivery=on_delivery)
        except BufferError:
            return False
        except KafkaException as exc:
            self._raise_if_fatal(exc)
            raise
        return True

    def wait_for_room(
        self, topic: str, key: bytes, value: bytes, headers: Headers, on_delivery: DeliveryCallback
    ) -> None:
        """Queue a message `try_produce` found no room for, retrying for up to the backpressure
        timeout while the poll serves delivery reports; then `QueueFullError`."""
        started = time.monotonic()
        deadline = started + self.config.backpressure_timeout
        while True:
            self._producer.poll(_BACKPRESSURE_STEP)
            if self.try_produce(topic, key, value, headers, on_delivery):
                return
            if time.monotonic() >= deadline:
                log.warning(logs.PUBLISHER_QUEUE_FULL, topic=topic)
                raise QueueFullError(topic, time.monotonic() - started)

    def flush(self, timeout: float) -> int:
        """Wait up to `timeout` s for every queued message's result; returns how many remain."""
        remaining: int = self._producer.flush(timeout)
        return remaining

    def ping(self, timeout: float) -> bool:
        """Whether a broker answers a metadata request within `timeout` s."""
        try:
            self._producer.list_topics(timeout=timeout)
        except KafkaException:
            return False
        return True

    def close(self, timeout: float) -> None:
        """Flush for up to `timeout` s, then fail whatever is left (its handles get
        `DeliveryError`s) and stop the poll thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        remaining = self._producer.flush(timeout)
        if remaining:
            log.warning(logs.PUBLISHER_CLOSED_WITH_PENDING, pending=remaining)
            self._producer.purge()
            self._producer.flush(0)
        self._stop.set()
        self._poller.join()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_usable(self) -> None:
        if self._closed:
            raise PublisherClosedError("publish after close")
        if self._fatal is not None:
            raise PublisherFatalError(f"the producer failed fatally: {self._fatal}")

    def _raise_if_fatal(self, exc: KafkaException) -> None:
        error = exc.args[0] if exc.args else None
        if isinstance(error, KafkaError) and error.fatal():
            self._fatal = error
            raise PublisherFatalError(f"the producer failed fatally: {error}") from exc

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(_POLL_INTERVAL)

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = error
            log.error(logs.PUBLISHER_FATAL, code=error.name(), reason=error.str())
        else:
            log.warning(logs.PUBLISHER_KAFKA_ERROR, code=error.name(), reason=error.str())
