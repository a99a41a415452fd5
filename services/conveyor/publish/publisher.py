"""`Publisher`: typed events in, delivery handles out, one per process."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import TracebackType

from conveyor import naming
from conveyor.delay.cancels import CANCELLED
from conveyor.events.base import Event
from conveyor.publish.config import PublisherConfig
from conveyor.publish.delivery import DeliveryHandle, DeliverySignal
from conveyor.publish.message import OutgoingMessage
from conveyor.publish.producer import KafkaSender
from conveyor.publish.routes import Routes
from conveyor.tracing.seam import SEND, Tracing, installed
from conveyor.typing import Codec

DEFAULT_CLOSE_TIMEOUT = 10.0


class Publisher:
    """Publishes typed events on their topics, keyed by entity id.

    `publish` validates and encodes on the caller's thread, queues the message and returns at
    once; a background thread serves delivery reports, so `handle.wait()` works from any thread.
    Use one per process (it is thread-safe) and close it, or use it as a context manager, to
    flush on shutdown.

    With tracing on (`tracing`, else the process's), each publish is a producer span, child of
    the current span or else of the `traceparent` passed, and the message carries its context.
    """

    def __init__(
        self, config: PublisherConfig, codec: Codec, tracing: Tracing | None = None
    ) -> None:
        self.config = config
        self.codec = codec
        self._tracing = tracing if tracing is not None else installed()
        self._traced = self._tracing.enabled
        self._sender = KafkaSender(config)
        self._signal = DeliverySignal()
        self._message = Routes(codec, config.topics, config.lanes, config.max_delay).message
        self._produce = self._sender.produce

    def publish(
        self,
        event: Event,
        *,
        correlation_id: str | None = None,
        traceparent: str | None = None,
        delay: timedelta | None = None,
        deliver_at: datetime | None = None,
        lane: str | None = None,
    ) -> DeliveryHandle:
        """Queue `event`; raises `InvalidEventError` (nothing sent) or `QueueFullError`.

        With `delay` or `deliver_at` the event waits in the delay topic until then (the
        scheduler delivers it); a time past `config.max_delay` raises `DelayTooLongError`.
        On a topic with lanes (`config.lanes`) the event goes to `lane`, else to the lane its
        lane field names, else to the default lane; `UnknownLaneError` refuses a lane its topic
        does not have, or any lane on a topic without lanes.
        """
        message = self._message(event, correlation_id, traceparent, lane, delay, deliver_at)
        if self._traced:
            message = self._tracing.sending(message, SEND)
        return self.send(message)

    def cancel_delayed(self, event_id: str) -> DeliveryHandle:
        """Cancel a delayed event not yet delivered: once the handle reports the cancel written,
        the scheduler drops the event unless it had begun delivering it."""
        handle = DeliveryHandle(event_id, self._signal)
        topic = self.config.topic_for(naming.DELAY_CANCEL_TOPIC)
        self._produce(topic, event_id.encode(), CANCELLED, [], handle)
        return handle

    def send(self, message: OutgoingMessage) -> DeliveryHandle:
        """Queue an already encoded message (the outbox relay's path)."""
        handle = DeliveryHandle(message.event_id, self._signal)
        self._produce(message.topic, message.key, message.value, message.headers, handle)
        return handle

    def flush(self, timeout: float) -> int:
        """Wait up to `timeout` s for outstanding deliveries; returns how many are still open."""
        return self._sender.flush(timeout)

    def ping(self, timeout: float = 2.0) -> bool:
        """Whether the cluster answers within `timeout` s (for readiness probes)."""
        return self._sender.ping(timeout)

    def close(self, timeout: float = DEFAULT_CLOSE_TIMEOUT) -> None:
        """Flush for up to `timeout` s; deliveries still open after it fail with `DeliveryError`."""
        self._sender.close(timeout)

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
