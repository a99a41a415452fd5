"""Exactly-once consume-transform-produce, for `Service(name, transactional=True)`.

A handler's `ctx.publish(event)` sends nothing: the event is encoded as the publisher encodes it
(`conveyor.publish.MessageBuilder`: topic, key, headers) and buffered under the event being
handled, one buffer per attempt; only the buffer of the attempt that succeeded counts. At each
commit the runtime opens one Kafka transaction, produces the follow-ups of exactly the events in
each partition's newly completed prefix (in offset order), adds the consumer's offsets to it
(`send_offsets_to_transaction`) and commits. A `read_committed` consumer therefore sees a
follow-up if and only if the offset of the event that caused it is committed.

A transaction that fails is aborted and its partitions are rewound to their last committed
offsets, so their events are handled again. The `transactional.id` is `<service>-<instance>`
(the group instance id, else the host name): a restarted instance fences its zombie and aborts
the transaction it left open. A producer that fails fatally (fenced, or a stale epoch from
a coordinator that moved with a lost node) is replaced and its partitions rewound; replaced
too often (`Renewals`), it stops the service.

Dead letters, retry tiers and parked keys are written by the policies' own producer, outside the
transaction: they are at least once (a rewound event may be dead-lettered twice).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
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

from conveyor import logs
from conveyor.clients import with_logs
from conveyor.errors import ConveyorError
from conveyor.lanes.model import Lanes
from conveyor.lanes.routing import LaneRouter
from conveyor.publish.config import PublisherConfig
from conveyor.publish.message import OutgoingMessage
from conveyor.runtime.errors import RuntimeConfigError
from conveyor.runtime.extension_seam import RuntimeExtension
from conveyor.runtime.followups import FollowUps, TransactionalExtension
from conveyor.runtime.service import Service
from conveyor.runtime.settings import ServiceSettings
from conveyor.runtime.work import PartitionState
from conveyor.typing import Codec

TIMEOUT = 30.0  # seconds for each transactional call; a stuck broker surfaces as an abort
DEADLINE = TIMEOUT + 10.0  # past its own timeout, a call is stuck (see TransactionStuckError)
COMMIT_ATTEMPTS = 3
_QUEUE_FULL_WAIT = 0.05


class TransactionAbortedError(ConveyorError):
    """A transaction failed and was aborted: its partitions are rewound and re-handled."""


class ProducerFencedError(ConveyorError):
    """Another instance took over this `transactional.id` (or the producer failed fatally):
    this one must stop."""


class TransactionsUnavailableError(ConveyorError):
    """The transactional producer could not start, or could not abort a failed transaction:
    the service stops, and its restart reads from the committed offsets."""


class Renewals:
    """How often a transactional producer that failed fatally may be replaced: a transaction
    coordinator that moved with a lost broker node can answer a live producer with a stale epoch,
    which librdkafka reports as fatal. More than `limit` replacements within `window` seconds
    means another live instance shares the `transactional.id` (a misconfiguration): stop then."""

    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        self._window = window
        self._times: deque[float] = deque(maxlen=limit)

    def allow(self) -> bool:
        """Count one replacement now; False once the budget of the window is spent."""
        now = time.monotonic()
        if len(self._times) == self._times.maxlen and now - self._times[0] < self._window:
            return False
        self._times.append(now)
        return True


class TransactionStuckError(ConveyorError):
    """A transactional call outlived its deadline. librdkafka can wait past a call's own timeout
    for a group coordinator that left the cluster with a lost node; the call goes on waiting, so
    its producer is abandoned (never used again, never destroyed) and replaced, which fences it."""


def within(call: Callable[[], None], deadline: float, what: str) -> None:
    """`call` on a daemon thread: its exception re-raised here, or `TransactionStuckError` once
    `deadline` seconds passed without it returning."""
    done = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name=f"conveyor-{what}", daemon=True).start()
    if not done.wait(deadline):
        raise TransactionStuckError(f"{what} did not return within {deadline:.0f} s")
    if failures:
        raise failures[0]


def transactional_call(
    call: Callable[[], None],
    what: str,
    log: Any,
    *,
    attempts: int = 1,
    pause: float = 0.0,
    deadline: float | None = DEADLINE,
) -> None:
    """A transactional producer's `call`, within `deadline` (`within`), made again (up to
    `attempts` times in all, `pause` seconds apart, each retry logged) while it fails with an
    error librdkafka calls retriable: a coordinator moving, a previous transaction still
    completing. A timed-out commit may have committed on the broker, and only the same call
    tells, so it is retried, never aborted."""

    def once() -> None:
        if deadline is None:
            call()
        else:
            within(call, deadline, what)

    for attempt in range(1, attempts):
        try:
            once()
            return
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if not (isinstance(error, KafkaError) and error.retriable()):
                raise
            log.warning(logs.TRANSACTION_RETRIED, call=what, attempt=attempt, error=str(error))
            time.sleep(pause)
    once()


def is_fatal(exc: KafkaException) -> bool:
    error = exc.args[0] if exc.args else None
    return isinstance(error, KafkaError) and error.fatal()


def transactional_id(service: str, settings: ServiceSettings) -> str:
    """Stable across restarts of one instance, distinct between live instances."""
    return f"{service}-{settings.group_instance_id or socket.gethostname()}"


class Transactions:
    """The transactional producer of one service process and its commit step."""

    def __init__(self, config: PublisherConfig, follow_ups: FollowUps, *, rewind_to: int) -> None:
        self._follow_ups = follow_ups
        self._rewind_to = rewind_to
        self._config = config
        self._renewals = Renewals()
        self._abandoned: list[Any] = []
        self._log = structlog.get_logger("conveyor.runtime").bind(
            transactional_id=config.extra["transactional.id"]
        )
        self._producer = self._initialised()

    def commit(self, consumer: Any, due: list[tuple[PartitionState, int]]) -> None:
        """Produce the follow-ups of each partition's events up to its position and commit them
        with those positions, in one transaction; raises `TransactionAbortedError` (aborted, or
        the producer replaced after a fatal error: the caller rewinds), `ProducerFencedError`
        (replaced too often) or `TransactionsUnavailableError` (stop)."""
        try:
            self._producer.begin_transaction()
            produced = 0
            for state, position in due:
                for message in self._follow_ups.take(state, position):
                    self._produce(message)
                    produced += 1
            offsets = [TopicPartition(s.topic, s.partition, position) for s, position in due]
            metadata = consumer.consumer_group_metadata()
            producer = self._producer
            transactional_call(
                lambda: producer.send_offsets_to_transaction(offsets, metadata, TIMEOUT),
                "send_offsets_to_transaction",
                self._log,
            )
            transactional_call(
                lambda: producer.commit_transaction(TIMEOUT),
                "commit_transaction",
                self._log,
                attempts=COMMIT_ATTEMPTS,
            )
        except KafkaException as exc:
            self._abort(exc)
        except TransactionStuckError as exc:
            self._abandon(exc)
        self._log.debug(logs.TRANSACTION_COMMITTED, partitions=len(due), produced=produced)

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
        produce_in_transaction(
            self._producer, message.topic, message.key, message.value, message.headers
        )

    def _initialised(self) -> Any:
        """A new transactional producer: fences any earlier one of the same id and aborts the
        transaction it left open."""
        producer = Producer(with_logs(self._config.librdkafka()))
        self._guard(lambda: producer.init_transactions(TIMEOUT))
        return producer

    def _abandon(self, exc: TransactionStuckError) -> None:
        """Replace a producer stuck in a call (kept referenced: destroying it would wait on the
        stuck call); the new one fences it and aborts its transaction."""
        self._log.warning(logs.TRANSACTION_STUCK, error=str(exc))
        if not self._renewals.allow():
            raise ProducerFencedError(str(exc)) from exc
        self._abandoned.append(self._producer)
        self._producer = self._initialised()
        raise TransactionAbortedError(str(exc)) from exc

    def _abort(self, exc: KafkaException) -> None:
        error = exc.args[0] if exc.args else None
        fatal = is_fatal(exc)
        self._log.warning(logs.TRANSACTION_ABORTED, error=str(error), fatal=fatal)
        if fatal:
            if not self._renewals.allow():
                raise ProducerFencedError(str(error)) from exc
            self._producer.purge()
            self._producer = self._initialised()
        else:
            self._guard(lambda: self._producer.abort_transaction(TIMEOUT))
        raise TransactionAbortedError(str(error)) from exc

    @staticmethod
    def _guard(call: Callable[[], None]) -> None:
        try:
            call()
        except KafkaException as exc:
            raise TransactionsUnavailableError(str(exc.args[0] if exc.args else exc)) from exc


def produce_in_transaction(
    producer: Any, topic: str, key: bytes | None, value: bytes | None, headers: Any
) -> None:
    """Queue one record of the open transaction, waiting for room while the queue is full
    (nothing is lost from a transaction by a full queue)."""
    while True:
        try:
            producer.produce(topic, value, key, headers=headers)
            return
        except BufferError:
            producer.poll(_QUEUE_FULL_WAIT)


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
    extension: RuntimeExtension,
    *,
    lanes: Mapping[str, Lanes] | None = None,
) -> ExactlyOnce:
    """The transactional producer (fencing any previous instance) and the follow-up buffers."""
    marked = [r.name for r in service.registrations.values() if r.policy.idempotency is not None]
    if marked:
        # a rewound event must run again to re-emit its follow-ups; a processed mark would skip it
        raise RuntimeConfigError(f"transactional handlers cannot be idempotency-marked: {marked}")
    topics = dict(settings.topic_map)
    router = LaneRouter(lanes, topics) if lanes else None
    follow_ups = FollowUps(codec, lambda declared: topics.get(declared, declared), lanes=router)
    config = PublisherConfig(
        bootstrap_servers=bootstrap_servers,
        client_id=f"{service.name}-transactions",
        extra={"transactional.id": transactional_id(service.name, settings)},
    )
    rewind_to = OFFSET_BEGINNING if settings.auto_offset_reset == "earliest" else OFFSET_END
    transactions = Transactions(config, follow_ups, rewind_to=rewind_to)
    return ExactlyOnce(follow_ups, transactions, TransactionalExtension(extension, follow_ups))
