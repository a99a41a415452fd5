"""Exactly-once consume-transform-produce, for `Service(name, transactional=True)`.

A handler's `ctx.publish(event)` sends nothing: the event is encoded as the publisher encodes it
(`conveyor.publish.build_message`: topic, key, headers) and buffered under the event being
handled, one buffer per attempt; only the buffer of the attempt that succeeded counts. At each
commit the runtime opens one Kafka transaction, produces the follow-ups of exactly the events in
each partition's newly completed prefix (in offset order), adds the consumer's offsets to it
(`send_offsets_to_transaction`) and commits. A `read_committed` consumer therefore sees a
follow-up if and only if the offset of the event that caused it is committed.

A transaction that fails is aborted and its partitions are rewound to their last committed
offsets, so their events are handled again. The `transactional.id` is `<service>-<instance>`
(the group instance id, else the host name): a restarted instance fences its zombie and aborts
the transaction it left open. A fenced producer stops the service.

Dead letters, retry tiers and parked keys are written by the policies' own producer, outside the
transaction: they are at least once (a rewound event may be dead-lettered twice).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)

from conveyor.errors import ConveyorError
from conveyor.events.base import Event
from conveyor.publish.config import PublisherConfig
from conveyor.publish.message import OutgoingMessage, build_message
from conveyor.runtime.errors import RuntimeConfigError
from conveyor.runtime.failures import FailureHandler, Forwarded
from conveyor.runtime.health import Health
from conveyor.runtime.logs import TRANSACTION_ABORTED, TRANSACTION_COMMITTED
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.service import Service
from conveyor.runtime.settings import ServiceSettings
from conveyor.runtime.work import PartitionState, WorkItem
from conveyor.typing import Codec

MAX_MESSAGE_BYTES = 1_000_000  # librdkafka's `message.max.bytes`: larger ones fail at produce
TIMEOUT = 30.0  # seconds for each transactional call; a stuck broker surfaces as an abort
_QUEUE_FULL_WAIT = 0.05


class TransactionAbortedError(ConveyorError):
    """A transaction failed and was aborted: its partitions are rewound and re-handled."""


class FollowUpTooLargeError(ConveyorError):
    """Raised in the handler: the producer would refuse this follow-up, and a transaction holding
    it would fail every time its event is handled again."""


class ProducerFencedError(ConveyorError):
    """Another instance took over this `transactional.id` (or the producer failed fatally):
    this one must stop."""


def transactional_id(service: str, settings: ServiceSettings) -> str:
    """Stable across restarts of one instance, distinct between live instances."""
    return f"{service}-{settings.group_instance_id or socket.gethostname()}"


class _AttemptBuffer:
    """The publisher a handler's context gets in one attempt: it encodes and keeps."""

    __slots__ = ("_encode", "messages")

    def __init__(self, encode: Callable[[Event], OutgoingMessage]) -> None:
        self._encode = encode
        self.messages: list[OutgoingMessage] = []

    def publish(self, event: Event) -> OutgoingMessage:
        message = self._encode(event)  # invalid events raise here, in the handler
        if len(message.value) + len(message.key) > MAX_MESSAGE_BYTES:
            raise FollowUpTooLargeError(f"{message.event_type} of {len(message.value)} bytes")
        self.messages.append(message)
        return message


class FollowUps:
    """Follow-up messages per handled event, held until the transaction of its offset.

    `publisher_for` runs on the dispatcher's loop thread at each attempt, `succeeded` there after
    a successful one; `take` and `forget` on the poll thread."""

    def __init__(self, codec: Codec, topic_for: Callable[[str], str]) -> None:
        self._encode: Callable[[Event], OutgoingMessage] = lambda event: build_message(
            event, codec, topic_for
        )
        self._lock = threading.Lock()
        self._attempts: dict[WorkItem, _AttemptBuffer] = {}
        self._ready: dict[PartitionState, dict[int, list[OutgoingMessage]]] = {}

    def publisher_for(self, item: WorkItem) -> _AttemptBuffer:
        """A fresh buffer for this attempt of `item` (a failed attempt's follow-ups are dropped)."""
        buffer = _AttemptBuffer(self._encode)
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


class Transactions:
    """The transactional producer of one service process and its commit step."""

    def __init__(self, config: PublisherConfig, follow_ups: FollowUps, *, rewind_to: int) -> None:
        self._follow_ups = follow_ups
        self._rewind_to = rewind_to
        self._producer = Producer(config.librdkafka())
        self._log = structlog.get_logger("conveyor.runtime").bind(
            transactional_id=config.extra["transactional.id"]
        )
        self._guard(lambda: self._producer.init_transactions(TIMEOUT))

    def commit(self, consumer: Any, due: list[tuple[PartitionState, int]]) -> None:
        """Produce the follow-ups of each partition's events up to its position and commit them
        with those positions, in one transaction; raises `TransactionAbortedError` (aborted) or
        `ProducerFencedError`."""
        try:
            self._producer.begin_transaction()
            produced = 0
            for state, position in due:
                for message in self._follow_ups.take(state, position):
                    self._produce(message)
                    produced += 1
            offsets = [TopicPartition(s.topic, s.partition, position) for s, position in due]
            metadata = consumer.consumer_group_metadata()
            self._producer.send_offsets_to_transaction(offsets, metadata, TIMEOUT)
            self._producer.commit_transaction(TIMEOUT)
        except KafkaException as exc:
            self._abort(exc)
        self._log.debug(TRANSACTION_COMMITTED, partitions=len(due), produced=produced)

    def rewind_positions(self, consumer: Any, states: list[PartitionState]) -> list[TopicPartition]:
        """Where `states` must be read again from: the group's committed offsets."""
        tps = [TopicPartition(s.topic, s.partition) for s in states]
        committed = consumer.committed(tps, timeout=TIMEOUT)
        return [
            TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else self._rewind_to)
            for tp in committed
        ]

    def close(self) -> None:
        self._producer.flush(TIMEOUT)

    def _produce(self, message: OutgoingMessage) -> None:
        while True:
            try:
                self._producer.produce(
                    message.topic, message.value, message.key, headers=message.headers
                )
                return
            except BufferError:
                self._producer.poll(_QUEUE_FULL_WAIT)

    def _abort(self, exc: KafkaException) -> None:
        error = exc.args[0] if exc.args else None
        if isinstance(error, KafkaError) and error.fatal():
            raise ProducerFencedError(str(error)) from exc
        self._log.warning(TRANSACTION_ABORTED, error=str(error))
        self._guard(lambda: self._producer.abort_transaction(TIMEOUT))
        raise TransactionAbortedError(str(error)) from exc

    @staticmethod
    def _guard(call: Callable[[], None]) -> None:
        try:
            call()
        except KafkaException as exc:
            raise ProducerFencedError(str(exc.args[0] if exc.args else exc)) from exc


class TransactionalExtension:
    """Wraps the service's extension: a successful attempt keeps its follow-ups, and a partition
    that goes away drops them."""

    def __init__(self, inner: Any, follow_ups: FollowUps) -> None:
        self._inner = inner
        self._follow_ups = follow_ups

    @property
    def failures(self) -> FailureHandler | None:
        failures: FailureHandler | None = self._inner.failures
        return failures

    def start(self, service: Service, metrics: RuntimeMetrics, health: Health) -> list[str]:
        topics: list[str] = self._inner.start(service, metrics, health)
        return topics

    def admit(self, item: WorkItem, now: float) -> float:
        delay: float = self._inner.admit(item, now)
        return delay

    def on_assigned(self, partitions: list[PartitionState]) -> None:
        self._inner.on_assigned(partitions)

    def on_revoked(self, partitions: list[PartitionState]) -> None:
        self._follow_ups.forget(partitions)
        self._inner.on_revoked(partitions)

    def divert(self, item: WorkItem) -> Forwarded | None:
        diverted: Forwarded | None = self._inner.divert(item)
        return diverted

    def guard(self, item: WorkItem, invoke: Callable[[], Awaitable[None]]) -> Awaitable[None]:
        guarded: Awaitable[None] = self._inner.guard(item, invoke)
        return guarded

    def succeeded(self, items: list[WorkItem]) -> None:
        self._follow_ups.succeeded(items)
        self._inner.succeeded(items)

    def close(self) -> None:
        self._inner.close()


@dataclass(frozen=True)
class ExactlyOnce:
    """What `run_service` wires in for a transactional service."""

    follow_ups: FollowUps
    transactions: Transactions
    extension: TransactionalExtension


def open_exactly_once(
    service: Service,
    bootstrap_servers: str,
    settings: ServiceSettings,
    codec: Codec,
    extension: Any,
) -> ExactlyOnce:
    """The transactional producer (fencing any previous instance) and the follow-up buffers."""
    marked = [r.name for r in service.registrations.values() if r.policy.idempotency is not None]
    if marked:
        # a rewound event must run again to re-emit its follow-ups; a processed mark would skip it
        raise RuntimeConfigError(f"transactional handlers cannot be idempotency-marked: {marked}")
    topics = dict(settings.topic_map)
    follow_ups = FollowUps(codec, lambda declared: topics.get(declared, declared))
    config = PublisherConfig(
        bootstrap_servers=bootstrap_servers,
        client_id=f"{service.name}-transactions",
        extra={"transactional.id": transactional_id(service.name, settings)},
    )
    rewind_to = OFFSET_BEGINNING if settings.auto_offset_reset == "earliest" else OFFSET_END
    transactions = Transactions(config, follow_ups, rewind_to=rewind_to)
    return ExactlyOnce(follow_ups, transactions, TransactionalExtension(extension, follow_ups))
