"""`AsyncPublisher`: the asyncio twin of `Publisher`, for async web services.

Same producer and poll thread; handles are awaitable and backpressure waits with `asyncio.sleep`,
so a full queue never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from types import TracebackType

from conveyor.events.base import Event
from conveyor.publish.config import PublisherConfig
from conveyor.publish.delivery import AsyncDeliveryHandle
from conveyor.publish.errors import QueueFullError
from conveyor.publish.message import OutgoingMessage
from conveyor.publish.producer import KafkaSender
from conveyor.publish.publisher import DEFAULT_CLOSE_TIMEOUT
from conveyor.publish.routes import Routes
from conveyor.tracing.seam import SEND, Tracing, installed
from conveyor.typing import Codec

_BACKPRESSURE_STEP = 0.005


class AsyncPublisher:
    """`await publisher.publish(event)` queues the event and returns an awaitable handle:
    `await handle` gives `(partition, offset)` once the broker confirms."""

    def __init__(
        self, config: PublisherConfig, codec: Codec, tracing: Tracing | None = None
    ) -> None:
        self.config = config
        self.codec = codec
        self._tracing = tracing if tracing is not None else installed()
        self._traced = self._tracing.enabled
        self._sender = KafkaSender(config)
        self._message = Routes(codec, config.topics, config.lanes, config.max_delay).message

    async def publish(
        self,
        event: Event,
        *,
        correlation_id: str | None = None,
        traceparent: str | None = None,
        delay: timedelta | None = None,
        deliver_at: datetime | None = None,
        lane: str | None = None,
    ) -> AsyncDeliveryHandle:
        """Queue `event`; raises `InvalidEventError` (nothing sent) or `QueueFullError`; with
        `delay`, `deliver_at` or `lane`, as `Publisher.publish` does."""
        message = self._message(event, correlation_id, traceparent, lane, delay, deliver_at)
        if self._traced:
            message = self._tracing.sending(message, SEND)
        return await self.send(message)

    async def send(self, message: OutgoingMessage) -> AsyncDeliveryHandle:
        handle = AsyncDeliveryHandle(message.event_id, asyncio.get_running_loop())
        parts = (message.topic, message.key, message.value, message.headers, handle)
        if self._sender.try_produce(*parts):
            return handle
        started = time.monotonic()
        while time.monotonic() - started < self.config.backpressure_timeout:
            await asyncio.sleep(_BACKPRESSURE_STEP)
            if self._sender.try_produce(*parts):
                return handle
        raise QueueFullError(message.topic, time.monotonic() - started)

    async def flush(self, timeout: float) -> int:
        return await asyncio.to_thread(self._sender.flush, timeout)

    async def ping(self, timeout: float = 2.0) -> bool:
        return await asyncio.to_thread(self._sender.ping, timeout)

    async def close(self, timeout: float = DEFAULT_CLOSE_TIMEOUT) -> None:
        await asyncio.to_thread(self._sender.close, timeout)

    async def __aenter__(self) -> AsyncPublisher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
