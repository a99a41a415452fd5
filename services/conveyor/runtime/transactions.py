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
a coordinator that moved with a lost node) or stuck in a call is replaced and its partitions
rewound; replaced too often, it stops the service (`conveyor.runtime.transactional_producer`).

Dead letters, retry tiers and parked keys are written by the policies' own producer, outside the
transaction: they are at least once (a rewound event may be dead-lettered twice).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaException, Producer, TopicPartition

from conveyor import logs
from conveyor.clients import with_logs
from conveyor.errors import ConveyorError
from conveyor.lanes.model import Lanes
from conveyor.lanes.routing import LaneRouter
from conveyor.publish.config import PublisherConfig
from conveyor.runtime.errors import RuntimeConfigError
from conveyor.runtime.extension_seam import RuntimeExtension
from conveyor.runtime.followups import FollowUps, TransactionalExtension
from conveyor.runtime.service import Service
from conveyor.runtime.settings import ServiceSettings
from conveyor.runtime.transactional_producer import (
    TIMEOUT,
    TransactionalProducer,
    TransactionStuckError,
    produce_in_transaction,
    reason,
    transactional_call,
    within,
)
from conveyor.runtime.work import PartitionState
from conveyor.typing import Codec

__all__ = [  # with the transactional producer's names its callers import from here
    "ExactlyOnce",
    "ProducerFencedError",
    "TransactionAbortedError",
    "TransactionStuckError",
    "Transactions",
    "TransactionsUnavailableError",
    "open_exactly_once",
    "transactional_id",
    "within",
]

COMMIT_ATTEMPTS = 3


class TransactionAbortedError(ConveyorError):
    """A transaction failed and was aborted: its partitions are rewound and re-handled."""


class ProducerFencedError(ConveyorError):
    """Another instance took over this `transactional.id` (or the producer failed fatally):
    this one must stop."""


class TransactionsUnavailableError(ConveyorError):
    """The transactional producer could not start, or could not abort a failed transaction:
    the service stops, and its restart reads from the committed offsets."""


def transactional_id(service: str, settings: ServiceSettings) -> str:
    """Stable across restarts of one instance, distinct between live instances."""
    return f"{service}-{settings.group_instance_id or socket.gethostname()}"


class Transactions:
    """The transactional producer of one service process and its commit step."""

    def __init__(self, config: PublisherConfig, follow_ups: FollowUps, *, rewind_to: int) -> None:
        self._follow_ups = follow_ups
        self._rewind_to = rewind_to
        self._config = config
        self._log = structlog.get_logger("conveyor.runtime").bind(
            transactional_id=config.extra["transactional.id"]
        )
        self._producer = TransactionalProducer(
            self._initialised,
            self._log,
            exhausted=ProducerFencedError,
            unavailable=TransactionsUnavailableError,
        )

    def commit(self, consumer: Any, due: list[tuple[PartitionState, int]]) -> None:
        """Produce the follow-ups of each partition's events up to its position and commit them
        with those positions, in one transaction; raises `TransactionAbortedError` (aborted, or
        the producer replaced after a fatal error or a stuck call: the caller rewinds),
        `ProducerFencedError` (replaced too often) or `TransactionsUnavailableError` (stop)."""
        producer = self._producer.current
        try:
            producer.begin_transaction()
            produced = 0
            for state, position in due:
                for message in self._follow_ups.take(state, position):
                    produce_in_transaction(
                        producer, message.topic, message.key, message.value, message.headers
                    )
                    produced += 1
            offsets = [TopicPartition(s.topic, s.partition, position) for s, position in due]
            metadata = consumer.consumer_group_metadata()
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
        except (KafkaException, TransactionStuckError) as exc:
            self._producer.recover(exc)
            raise TransactionAbortedError(reason(exc)) from exc
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

    def _initialised(self) -> Any:
        """A new transactional producer: fences any earlier one of the same id and aborts the
        transaction it left open."""
        producer = Producer(with_logs(self._config.librdkafka()))
        try:
            producer.init_transactions(TIMEOUT)
        except KafkaException as exc:
            raise TransactionsUnavailableError(reason(exc)) from exc
        return producer


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
