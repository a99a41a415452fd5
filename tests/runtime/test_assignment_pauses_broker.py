"""A new assignment of a partition fetches, whatever paused the partition before it.

librdkafka keeps a partition's pause past the partition's revocation: assigned again (the
consumer protocol hands it back in a later rebalance), it stays paused until resumed. The
runtime's state of a new assignment starts unpaused, so nothing would ever resume it, and its
events would wait in Kafka, uncommitted, for good. These tests pause a partition in the client
the way an earlier assignment left it, then assign it, with a real consumer on the broker.
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from conveyor.runtime.context import NO_PUBLISHER
from conveyor.runtime.dispatcher import Dispatcher
from conveyor.runtime.failure_seam import RetryInPlace
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.partitions import Assignments
from conveyor.runtime.work import Completion, PartitionState
from tests.conftest import TopicFactory

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]

EVENTS = 20
FETCH_WITHIN = 15.0  # seconds: a fetching partition delivers long before


@pytest.fixture
def topic(new_topic: TopicFactory, kafka_bootstrap: str) -> str:
    name = new_topic(partitions=1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for n in range(EVENTS):
        producer.produce(name, str(n).encode(), key=b"k", partition=0)
    assert producer.flush(30) == 0
    return name


@pytest.fixture
def consumer(kafka_bootstrap: str) -> Iterator[Consumer]:
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"assignment-pauses-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    yield consumer
    consumer.close()


@pytest.fixture
def assignments() -> Iterator[Assignments]:
    yield from _assignments(operator_paused=False)


@pytest.fixture
def operator_paused() -> Iterator[Assignments]:
    """Assignments of a service an operator paused (`conveyor pause`)."""
    yield from _assignments(operator_paused=True)


def _assignments(*, operator_paused: bool) -> Iterator[Assignments]:
    reports: queue.SimpleQueue[list[Completion]] = queue.SimpleQueue()
    dispatcher = Dispatcher(
        "assignment-pauses",
        max_in_flight=8,
        sync_workers=1,
        failures=RetryInPlace(1.0),
        publisher=NO_PUBLISHER,
        metrics=RuntimeMetrics("assignment-pauses"),
        completions=reports,
    )
    dispatcher.start()
    yield Assignments(
        "assignment-pauses",
        dispatcher,
        reports,
        RuntimeMetrics("assignment-pauses"),
        max_pending=1000,
        max_uncommitted=2000,
        drain_deadline=1.0,
        operator_paused=lambda topic: operator_paused,
    )
    dispatcher.stop(timeout=1.0)


def _fetched(consumer: Consumer, assignments: Assignments, seconds: float) -> int:
    """Poll as the loop does (resuming drained partitions first); how many events came."""
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline and count < EVENTS:
        assignments.resume_drained(consumer)
        count += sum(1 for m in consumer.consume(EVENTS, 0.2) if m.error() is None)
    return count


def _fetches_one(consumer: Consumer) -> None:
    """The consumer fetches: an event comes, not an error (such as a coordinator not ready to
    give the committed offsets, which leaves the partition without a position)."""
    (first,) = consumer.consume(1, FETCH_WITHIN)
    assert first.error() is None, first.error()


def _paused(state: PartitionState) -> bool:
    """Read afresh (a callback changed it since the test last looked)."""
    return state.paused


def _assign(consumer: Consumer, assignments: Assignments, tp: TopicPartition) -> None:
    """What a rebalance does: the callback, then the client's own assignment."""
    assignments.on_assign(consumer, [tp])
    consumer.incremental_assign([tp])


def _assigned_and_held(
    consumer: Consumer, assignments: Assignments, tp: TopicPartition
) -> PartitionState:
    """`tp` assigned and fetching, then paused by the runtime for a held event."""
    _assign(consumer, assignments, tp)
    state = assignments.get(tp.topic, tp.partition)
    assert state is not None
    _fetches_one(consumer)
    state.held = True
    assignments.pause_full(consumer)
    return state


def test_a_partition_paused_by_an_earlier_assignment_fetches_once_assigned_again(
    consumer: Consumer, assignments: Assignments, topic: str
) -> None:
    tp = TopicPartition(topic, 0)
    consumer.incremental_assign([tp])
    _fetches_one(consumer)
    consumer.pause([tp])
    consumer.incremental_unassign([tp])  # taken away paused, its resume never sent

    _assign(consumer, assignments, tp)

    state = assignments.get(topic, 0)
    assert state is not None
    assert not state.paused
    assert _fetched(consumer, assignments, FETCH_WITHIN) == EVENTS


def test_a_partition_assigned_again_before_its_revocation_came_drops_the_old_state(
    consumer: Consumer, assignments: Assignments, topic: str
) -> None:
    """An assignment of a partition the runtime still counts as its own: the old state (paused
    for its held event) is given up as lost, and the new assignment fetches."""
    tp = TopicPartition(topic, 0)
    old = _assigned_and_held(consumer, assignments, tp)
    consumer.incremental_unassign([tp])

    _assign(consumer, assignments, tp)  # no revocation in between

    assert _fetched(consumer, assignments, FETCH_WITHIN) == EVENTS
    fresh = assignments.get(topic, 0)
    assert fresh is not None
    assert fresh is not old
    assert not fresh.paused
    assert not old.active
    assert not old.paused


@pytest.mark.parametrize("taken", ["revoked", "lost"])
def test_a_partition_taken_away_while_paused_fetches_once_assigned_again(
    consumer: Consumer, assignments: Assignments, topic: str, taken: str
) -> None:
    """The runtime undoes its own pause when a partition goes, drained or lost."""
    tp = TopicPartition(topic, 0)
    state = _assigned_and_held(consumer, assignments, tp)
    assert state.paused

    (assignments.on_revoke if taken == "revoked" else assignments.on_lost)(consumer, [tp])
    consumer.incremental_unassign([tp])
    assert not _paused(state)
    assert assignments.get(topic, 0) is None

    _assign(consumer, assignments, tp)
    assert _fetched(consumer, assignments, FETCH_WITHIN) == EVENTS


def test_a_partition_of_a_topic_an_operator_paused_is_assigned_paused(
    consumer: Consumer, operator_paused: Assignments, topic: str
) -> None:
    tp = TopicPartition(topic, 0)
    operator_paused.on_assign(consumer, [tp])  # it assigns (and pauses) itself: no client assign
    state = operator_paused.get(topic, 0)
    assert state is not None
    assert state.paused
    assert _fetched(consumer, operator_paused, 3.0) == 0
