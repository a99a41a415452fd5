"""Follow-up events of a transactional service, buffered per handled event until the transaction
that commits its offset (see `conveyor.runtime.transactions`).

`ctx.publish(event)` encodes the event as the publisher does (`conveyor.publish.MessageBuilder`:
topic, key, headers) into a buffer of the current attempt; only the attempt that succeeded
counts, so a failed or dead-lettered attempt's follow-ups are never produced.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable

from conveyor.errors import ConveyorError
from conveyor.events.base import Event
from conveyor.lanes.errors import UnknownLaneError
from conveyor.lanes.routing import LaneRouter
from conveyor.publish.message import MessageBuilder, OutgoingMessage
from conveyor.runtime.extension_seam import RuntimeExtension
from conveyor.runtime.failure_seam import FailureHandler, Forwarded
from conveyor.runtime.follow_lanes import cause_lane
from conveyor.runtime.health import Health
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.service import Service
from conveyor.runtime.work import PartitionState, WorkItem
from conveyor.tracing.seam import CREATE, Tracing, installed
from conveyor.typing import Codec

MAX_MESSAGE_BYTES = 1_000_000  # librdkafka's `message.max.bytes`: larger ones fail at produce


class FollowUpTooLargeError(ConveyorError):
    """Raised in the handler: the producer would refuse this follow-up, and a transaction holding
    it would fail every time its event is handled again."""


class _AttemptBuffer:
    """The publisher a handler's context gets in one attempt: it encodes and keeps."""

    __slots__ = ("_encode", "messages")

    def __init__(self, encode: Callable[[Event, str | None], OutgoingMessage]) -> None:
        self._encode = encode
        self.messages: list[OutgoingMessage] = []

    def publish(self, event: Event, *, lane: str | None = None) -> OutgoingMessage:
        message = self._encode(event, lane)  # invalid events raise here, in the handler
        if len(message.value) + len(message.key) > MAX_MESSAGE_BYTES:
            raise FollowUpTooLargeError(f"{message.event_type} of {len(message.value)} bytes")
        self.messages.append(message)
        return message


class FollowUps:
    """Follow-up messages per handled event, held until the transaction of its offset.

    `publisher_for` runs on the dispatcher's loop thread at each attempt, `succeeded` there after
    a successful one; `take` and `forget` on the poll thread."""

    def __init__(
        self,
        codec: Codec,
        topic_for: Callable[[str], str],
        tracing: Tracing | None = None,
        lanes: LaneRouter | None = None,
    ) -> None:
        """`lanes`: routes follow-ups to lanes, by the rule of `conveyor.runtime.follow_lanes`."""
        build = MessageBuilder(codec, topic_for).build
        self._build = build
        self._lanes = lanes
        tracing = tracing if tracing is not None else installed()
        self._tracing = tracing if tracing.enabled else None
        self._lock = threading.Lock()
        self._attempts: dict[WorkItem, _AttemptBuffer] = {}
        self._ready: dict[PartitionState, dict[int, list[OutgoingMessage]]] = {}

    def _encoder(self, item: WorkItem) -> Callable[[Event, str | None], OutgoingMessage]:
        build, lanes, tracing = self._build, self._lanes, self._tracing

        def encode(event: Event, lane: str | None) -> OutgoingMessage:
            message = build(event)
            if lanes is not None:
                message = lanes.route(message, event, lane, inherited=cause_lane(item))
            elif lane is not None:
                raise UnknownLaneError(message.topic, lane, ())
            # a follow-up is created now, sent with the transaction
            return message if tracing is None else tracing.sending(message, CREATE)

        return encode

    def publisher_for(self, item: WorkItem) -> _AttemptBuffer:
        """A fresh buffer for this attempt of `item` (a failed attempt's follow-ups are dropped)."""
        buffer = _AttemptBuffer(self._encoder(item))
        with self._lock:
            self._attempts[item] = buffer
        return buffer

    def succeeded(self, items: list[WorkItem]) -> None:
        """Keep the follow-ups of the attempt that succeeded; a batch's go with its first event."""
        with self._lock:
            buffers = [self._attempts.pop(item, None) for item in items]
            messages = [m for buffer in buffers if buffer is not None for m in buffer.messages]
            if messages:
                first = items[0]
                self._ready.setdefault(first.partition, {})[first.offset] = messages

    def take(self, state: PartitionState, position: int) -> list[OutgoingMessage]:
        """Remove and return the follow-ups of `state`'s events before `position`, in offset
        order; also forgets failed attempts of those events (dead-lettered ones)."""
        with self._lock:
            ready = self._ready.get(state, {})
            offsets = sorted(offset for offset in ready if offset < position)
            taken = [message for offset in offsets for message in ready.pop(offset)]
            stale = [i for i in self._attempts if i.partition is state and i.offset < position]
            for item in stale:
                del self._attempts[item]
        return taken

    def forget(self, states: list[PartitionState]) -> None:
        """Drop everything buffered for partitions this process no longer handles."""
        gone = set(states)
        with self._lock:
            for state in gone:
                self._ready.pop(state, None)
            for item in [i for i in self._attempts if i.partition in gone]:
                del self._attempts[item]


class TransactionalExtension:
    """Wraps the service's extension: a successful attempt keeps its follow-ups, and a partition
    that goes away drops them."""

    def __init__(self, inner: RuntimeExtension, follow_ups: FollowUps) -> None:
        self._inner = inner
        self._follow_ups = follow_ups

    @property
    def failures(self) -> FailureHandler | None:
        return self._inner.failures

    def start(self, service: Service, metrics: RuntimeMetrics, health: Health) -> list[str]:
        return self._inner.start(service, metrics, health)

    def admit(self, item: WorkItem, now: float) -> float:
        return self._inner.admit(item, now)

    def on_assigned(self, partitions: list[PartitionState]) -> None:
        self._inner.on_assigned(partitions)

    def on_revoked(self, partitions: list[PartitionState]) -> None:
        self._follow_ups.forget(partitions)
        self._inner.on_revoked(partitions)

    def divert(self, item: WorkItem) -> Forwarded | None:
        return self._inner.divert(item)

    def guard(self, item: WorkItem, invoke: Callable[[], Awaitable[None]]) -> Awaitable[None]:
        return self._inner.guard(item, invoke)

    def succeeded(self, items: list[WorkItem]) -> None:
        self._follow_ups.succeeded(items)
        self._inner.succeeded(items)

    def close(self) -> None:
        self._inner.close()
