"""Delivery handles: what `publish` returns, settled by the producer's delivery report.

The report arrives on the publisher's poll thread; a sync handle wakes waiting threads, an async
handle hands the result to its event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Generator
from typing import Any, NamedTuple

from confluent_kafka import KafkaError

from conveyor.publish.errors import (
    DeliveryError,
    DeliveryPendingError,
    DeliveryTimeoutError,
    PublishError,
)


class DeliveryResult(NamedTuple):
    """Where the broker wrote the event."""

    partition: int
    offset: int


def _outcome(event_id: str, err: Any, msg: Any) -> DeliveryResult | PublishError:
    if err is None:
        return DeliveryResult(msg.partition(), msg.offset())
    error_type = DeliveryTimeoutError if err.code() == KafkaError._MSG_TIMED_OUT else DeliveryError
    return error_type(msg.topic(), msg.key(), event_id, err)


class DeliveryHandle:
    """Result of one `Publisher.publish`: `wait(timeout)` returns `(partition, offset)` or raises
    the `DeliveryError` the broker's answer (or its silence) amounts to."""

    __slots__ = ("_done", "_outcome", "event_id")

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        self._outcome: DeliveryResult | PublishError | None = None
        self._done = threading.Event()

    def on_delivery(self, err: Any, msg: Any) -> None:
        self._outcome = _outcome(self.event_id, err, msg)
        self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def succeeded(self) -> bool:
        """True once the broker confirmed the event."""
        return self._done.is_set() and isinstance(self._outcome, DeliveryResult)

    def wait_done(self, timeout: float | None = None) -> bool:
        """Block until the result is known or `timeout` passes; True when it is known."""
        return self._done.wait(timeout)

    def wait(self, timeout: float | None = None) -> DeliveryResult:
        """Block until the delivery result is known; `DeliveryPendingError` if `timeout` passes
        first (the delivery itself goes on, bounded by the publisher's delivery timeout)."""
        if not self._done.wait(timeout):
            raise DeliveryPendingError(f"event {self.event_id}: no delivery result yet")
        outcome = self._outcome
        if isinstance(outcome, PublishError):
            raise outcome
        assert outcome is not None  # set before _done
        return outcome


class AsyncDeliveryHandle:
    """Result of one `AsyncPublisher.publish`: `await handle` gives `(partition, offset)`."""

    __slots__ = ("_future", "_loop", "event_id")

    def __init__(self, event_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.event_id = event_id
        self._loop = loop
        self._future: asyncio.Future[DeliveryResult] = loop.create_future()

    def on_delivery(self, err: Any, msg: Any) -> None:
        outcome = _outcome(self.event_id, err, msg)
        # A closed loop means nobody is left to await this handle.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._settle, outcome)

    def _settle(self, outcome: DeliveryResult | PublishError) -> None:
        if self._future.done():
            return
        if isinstance(outcome, PublishError):
            self._future.set_exception(outcome)
        else:
            self._future.set_result(outcome)

    def done(self) -> bool:
        return self._future.done()

    def __await__(self) -> Generator[Any, None, DeliveryResult]:
        return self._future.__await__()
