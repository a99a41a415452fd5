"""The scheduler: delivers the delay topic's events to their topics when they are due.

One consumer group (`conveyor-scheduler`) for the deployment; its members split the delay topic's
partitions. Each loop: poll (never longer than until the next due time), hold what was fetched,
then deliver every due event in one Kafka transaction that also commits the delay topic's offsets
(with the offsets delivered beyond them as metadata, see `progress`). A SIGKILL therefore loses
nothing (offsets never pass an undelivered event) and duplicates nothing a `read_committed`
consumer saw (a delivery and its offset commit are one transaction). A partition holding its
bound of events pauses; the consumer keeps polling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import structlog
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from conveyor import logs, naming
from conveyor.clients import Outage, wait_out, with_logs
from conveyor.delay.cancels import CancelLog
from conveyor.delay.envelope import Envelope
from conveyor.delay.errors import SchedulerError
from conveyor.delay.pending import Held, PartitionQueue
from conveyor.delay.progress import DeliveredAhead
from conveyor.environment import EnvModel, variable
from conveyor.errors import ConveyorError
from conveyor.log_output import CONSUMER_ERROR_INTERVAL, Repeats
from conveyor.runtime.settings import ServiceSettings, consumer_config
from conveyor.runtime.transactional_producer import (
    TransactionalProducer,
    TransactionStuckError,
    produce_in_transaction,
    transactional_call,
)
from conveyor.runtime.transactions import transactional_id

TP = tuple[str, int]
_ATTEMPTS = 5  # of each transactional call, _PAUSE seconds apart, while it fails retriably
_PAUSE = 0.2
TIMEOUT = 30.0
_BATCH = 1000


@dataclass(frozen=True)
class SchedulerSettings:
    """The scheduler's settings (`SchedulerVariables` reads them); consumer settings as for any
    service (`ServiceSettings`: group protocol, `CONVEYOR_GROUP_INSTANCE_ID`, which also names
    the transactional id)."""

    bootstrap_servers: str
    consumer: ServiceSettings = field(default_factory=ServiceSettings)
    delay_topic: str = naming.DELAY_TOPIC
    cancel_topic: str = naming.DELAY_CANCEL_TOPIC
    group: str = naming.SCHEDULER_GROUP
    max_held_per_partition: int = 10_000
    poll_interval: float = 0.05
    # Bounds the delivery of each transaction's records too: shorter, a leader failover under
    # load timed them out. A restarted scheduler aborts its killed self's transaction at once.
    transaction_timeout_ms: int = 60_000

    @classmethod
    def from_env(cls, bootstrap_servers: str, env: Mapping[str, str]) -> SchedulerSettings:
        consumer = ServiceSettings.from_env(env)
        own = SchedulerVariables.from_env(env)
        topics = consumer.topic_map
        return cls(
            bootstrap_servers=bootstrap_servers,
            consumer=consumer,
            delay_topic=topics.get(naming.DELAY_TOPIC, naming.DELAY_TOPIC),
            cancel_topic=topics.get(naming.DELAY_CANCEL_TOPIC, naming.DELAY_CANCEL_TOPIC),
            group=own.group,
            max_held_per_partition=own.max_held_per_partition,
            poll_interval=own.poll_interval,
        )


_DEFAULTS: Final = SchedulerSettings(bootstrap_servers="")


class SchedulerVariables(EnvModel):
    """The delay scheduler's own variables."""

    settings_error: ClassVar[type[ConveyorError]] = SchedulerError

    group: str = variable(
        "CONVEYOR_SCHEDULER_GROUP",
        _DEFAULTS.group,
        description="The scheduler's consumer group.",
        example="scheduler-2",
    )
    max_held_per_partition: int = variable(
        "CONVEYOR_SCHEDULER_MAX_HELD",
        _DEFAULTS.max_held_per_partition,
        description="Events held per delay-topic partition before it pauses.",
        example="500",
        ge=1,
    )
    poll_interval: float = variable(
        "CONVEYOR_SCHEDULER_POLL_MS",
        _DEFAULTS.poll_interval,
        unit="ms",
        description="The longest poll of the delay topic.",
        example="20",
        gt=0,
    )


class Scheduler:
    """One member of the scheduler group; `run(stop)` until `stop` is set."""

    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self._log = structlog.get_logger("conveyor.delay").bind(service=settings.group)
        self._error_repeats = Repeats(CONSUMER_ERROR_INTERVAL)
        self._outage = Outage("delay offsets", service=settings.group)
        self._queues: dict[TP, PartitionQueue] = {}
        self._paused: set[TP] = set()
        self._dirty: set[TP] = set()  # settled offsets not committed yet
        self._last_commit = time.monotonic()
        self._cancels = CancelLog(settings.bootstrap_servers, settings.cancel_topic)
        # Dynamic membership: a restarted static member is refused while its killed self is
        # still registered (KIP-848). The instance id still names the transactional id, so a
        # restart fences its killed predecessor and aborts the transaction it left open.
        dynamic = settings.consumer.model_copy(update={"group_instance_id": None})
        config = consumer_config(settings.group, settings.bootstrap_servers, dynamic)
        self._consumer = Consumer(with_logs(config))
        self._producer = TransactionalProducer(
            self._transactional_producer,
            self._log,
            exhausted=SchedulerError,
            unavailable=SchedulerError,
            abort_attempts=_ATTEMPTS,
            abort_pause=_PAUSE,
        )

    def run(self, stop: threading.Event) -> None:
        self._cancels.catch_up()
        self._consumer.subscribe(
            [self.settings.delay_topic], on_assign=self._on_assign, on_revoke=self._on_revoke
        )
        self._log.info(logs.SERVICE_STARTED, topic=self.settings.delay_topic)
        try:
            while not stop.is_set():
                self._poll()
                self._deliver_due()
                self._pause_or_resume()
        finally:
            self._log.info(logs.SERVICE_STOPPING)
            self._consumer.close()
            self._cancels.close()
            with suppress(KafkaException):  # a failed producer has nothing left to deliver
                self._producer.flush(TIMEOUT)
            self._log.info(logs.SERVICE_STOPPED)

    def _poll(self) -> None:
        timeout = self.settings.poll_interval
        due = [d for q in self._queues.values() if (d := q.next_due()) is not None]
        if due:
            timeout = max(0.0, min(timeout, min(due) / 1000 - time.time()))
        for message in self._consumer.consume(_BATCH, timeout):
            error = message.error()
            if error is not None:
                held_back = 0 if error.fatal() else self._error_repeats.admit(error.name())
                if held_back is not None:  # an outage repeats its error each poll
                    self._log.warning(
                        logs.CONSUMER_ERROR,
                        error=str(error),
                        fatal=error.fatal(),
                        held_back=held_back,
                    )
                if error.fatal():
                    raise SchedulerError(f"the scheduler's consumer failed: {error}")
                continue
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            queue = self._queues.get((topic or "", partition or 0))
            if queue is not None and offset is not None:
                queue.add(offset, self._held(message))
                self._dirty.add((topic or "", partition or 0))

    def _held(self, message: Any) -> Held | None:
        envelope = Envelope.read(message.headers())
        if envelope is None or envelope.event_id in self._cancels.cancelled:
            return None
        return Held(envelope.due_ms, message.offset(), envelope, message.key(), message.value())

    def _deliver_due(self) -> None:
        now_ms = int(time.time() * 1000)
        due = {tp: taken for tp, q in self._queues.items() if (taken := q.take_due(now_ms))}
        if not due:
            if self._dirty and time.monotonic() - self._last_commit > 1.0:
                self._commit({}, set())
            return
        cancelled = self._cancels.catch_up()
        if cancelled:
            for queue in self._queues.values():
                for held in queue.drop(cancelled):
                    self._settle_cancelled(queue, held)
        self._commit(due, self._cancels.cancelled)

    def _commit(self, due: dict[TP, list[Held]], cancelled: set[str]) -> None:
        """One transaction: the due events to their topics, the offsets they settle."""
        delivered = 0
        producer = self._producer.current
        try:
            producer.begin_transaction()
            for tp, events in due.items():
                queue = self._queues[tp]
                for held in events:
                    if held.envelope.event_id in cancelled:
                        self._settle_cancelled(queue, held)
                        continue
                    self._produce(producer, held)
                    queue.settle(held.offset)
                    delivered += 1
                self._dirty.add(tp)
            offsets = self._commit_points()
            if offsets:
                metadata = self._consumer.consumer_group_metadata()
                transactional_call(
                    lambda: producer.send_offsets_to_transaction(offsets, metadata, TIMEOUT),
                    "send_offsets_to_transaction",
                    self._log,
                    attempts=_ATTEMPTS,
                    pause=_PAUSE,
                )
            transactional_call(
                lambda: producer.commit_transaction(TIMEOUT),
                "commit_transaction",
                self._log,
                attempts=_ATTEMPTS,
                pause=_PAUSE,
            )
        except (KafkaException, TransactionStuckError) as exc:
            self._producer.recover(exc)  # aborted, or the producer replaced
            self._rewind()
            return
        self._dirty.clear()
        self._last_commit = time.monotonic()
        if delivered:
            self._log.debug(logs.DELAYED_DELIVERED, events=delivered)

    @staticmethod
    def _produce(producer: Any, held: Held) -> None:
        envelope = held.envelope
        produce_in_transaction(
            producer, envelope.destination, held.key, held.value, envelope.headers
        )

    def _settle_cancelled(self, queue: PartitionQueue, held: Held) -> None:
        queue.settle(held.offset)
        self._log.info(logs.DELAYED_CANCELLED, event_id=held.envelope.event_id, offset=held.offset)

    def _commit_points(self) -> list[TopicPartition]:
        offsets = []
        for tp in self._dirty:
            queue = self._queues.get(tp)
            point = queue.commit_point() if queue is not None else None
            if point is not None:
                offsets.append(TopicPartition(tp[0], tp[1], point[0], point[1]))
        return offsets

    def _transactional_producer(self) -> Any:
        """A transactional producer, its transactions initialised: this fences any earlier
        producer of the same `transactional.id` and aborts the transaction it left open."""
        settings = self.settings
        producer = Producer(
            with_logs(
                {
                    "bootstrap.servers": settings.bootstrap_servers,
                    "client.id": f"{settings.group}-transactions",
                    "transactional.id": transactional_id(settings.group, settings.consumer),
                    "transaction.timeout.ms": settings.transaction_timeout_ms,
                    "enable.idempotence": True,
                    "acks": "all",
                    "linger.ms": 1,
                    "partitioner": "murmur2_random",
                }
            )
        )
        self._guard(lambda: wait_out(lambda: producer.init_transactions(TIMEOUT), self._outage))
        return producer

    def _rewind(self) -> None:
        """Read the assigned partitions again from their committed offsets."""
        assigned = [TopicPartition(t, p) for t, p in self._queues]
        for tp in self._load(assigned):
            self._consumer.seek(tp)
            self._log.info(logs.PARTITION_REWOUND, topic=tp.topic, partition=tp.partition)

    def _load(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Fresh queues for `partitions`, knowing what was delivered past their commits."""
        if not partitions:
            return []
        committed = wait_out(
            lambda: self._consumer.committed(partitions, timeout=TIMEOUT), self._outage
        )
        for tp in committed:
            ahead = DeliveredAhead.decode(tp.metadata, tp.offset) if tp.offset >= 0 else None
            self._queues[(tp.topic, tp.partition)] = PartitionQueue(ahead)
            self._paused.discard((tp.topic, tp.partition))
        return [tp for tp in committed if tp.offset >= 0]

    def _pause_or_resume(self) -> None:
        bound = self.settings.max_held_per_partition
        for tp, queue in self._queues.items():
            if tp not in self._paused and len(queue) >= bound:
                self._consumer.pause([TopicPartition(*tp)])
                self._paused.add(tp)
                self._log.info(logs.PARTITION_PAUSED, topic=tp[0], partition=tp[1])
            elif tp in self._paused and len(queue) < bound:
                self._consumer.resume([TopicPartition(*tp)])
                self._paused.discard(tp)
                self._log.info(logs.PARTITION_RESUMED, topic=tp[0], partition=tp[1])

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._load(partitions)
        for tp in partitions:
            self._log.info(logs.PARTITION_ASSIGNED, topic=tp.topic, partition=tp.partition)

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        # every delivery was committed with its offsets already: nothing to finish
        for tp in partitions:
            key = (tp.topic, tp.partition)
            self._queues.pop(key, None)
            self._paused.discard(key)
            self._dirty.discard(key)
            self._log.info(logs.PARTITION_REVOKED, topic=tp.topic, partition=tp.partition)

    @staticmethod
    def _guard(call: Any) -> None:
        try:
            call()
        except KafkaException as exc:
            raise SchedulerError(str(exc.args[0] if exc.args else exc)) from exc
