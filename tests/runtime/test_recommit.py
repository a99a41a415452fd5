"""An asynchronous commit whose report never comes is sent again.

librdkafka can leave an offset commit on a group coordinator that was paused or left the
cluster, with no report. The runtime marks a position committed when it sends it, so a partition
that then goes idle would never be committed again: its lag would stay up for good (the chaos
suite saw exactly that after a SIGSTOP of the group's coordinator). Every `RECOMMIT_INTERVAL`
the asynchronous commit sends every owned position again, moved or not.
"""

from __future__ import annotations

import queue
from typing import Any

from confluent_kafka import TopicPartition

from conveyor.runtime.context import NO_PUBLISHER
from conveyor.runtime.dispatcher import Dispatcher
from conveyor.runtime.failure_seam import RetryInPlace
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.partitions import Assignments
from conveyor.runtime.work import Completion

TOPIC = "recommit"


class SilentConsumer:
    """A consumer double: records every commit sent and never reports one back, as a commit
    stuck on a lost coordinator does."""

    def __init__(self) -> None:
        self.commits: list[list[tuple[str, int, int]]] = []

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.commits.append([(tp.topic, tp.partition, tp.offset) for tp in offsets])

    def resume(self, partitions: list[TopicPartition]) -> None:
        pass


def assignments_with(recommit_interval: float) -> Assignments:
    reports: queue.SimpleQueue[list[Completion]] = queue.SimpleQueue()
    dispatcher = Dispatcher(
        TOPIC,
        max_in_flight=1,
        sync_workers=1,
        failures=RetryInPlace(1.0),
        publisher=NO_PUBLISHER,
        metrics=RuntimeMetrics(TOPIC),
        completions=reports,
    )
    return Assignments(
        TOPIC,
        dispatcher,
        reports,
        RuntimeMetrics(TOPIC),
        max_pending=10,
        max_uncommitted=10,
        drain_deadline=1.0,
        recommit_interval=recommit_interval,
    )


def completed_up_to(assignments: Assignments, consumer: Any, last: int) -> None:
    """Partition 0 assigned, offsets 0..last handled."""
    assignments.on_assign(consumer, [TopicPartition(TOPIC, 0)])
    state = assignments.get(TOPIC, 0)
    assert state is not None
    for offset in range(last + 1):
        state.tracker.track(offset)
        state.tracker.complete(offset)


def test_nothing_moved_within_the_interval_is_not_sent_again() -> None:
    assignments = assignments_with(recommit_interval=3600.0)
    consumer = SilentConsumer()
    completed_up_to(assignments, consumer, 4)
    assignments.commit(consumer, sync=False)
    assignments.commit(consumer, sync=False)
    assert consumer.commits == [[(TOPIC, 0, 5)]]


def test_an_unreported_commit_is_sent_again_after_the_interval() -> None:
    assignments = assignments_with(recommit_interval=0.0)
    consumer = SilentConsumer()
    completed_up_to(assignments, consumer, 4)
    assignments.commit(consumer, sync=False)
    assignments.commit(consumer, sync=False)  # the report never came, nothing moved: sent again
    assert consumer.commits == [[(TOPIC, 0, 5)], [(TOPIC, 0, 5)]]


def test_a_commit_on_revoke_sends_only_what_moved() -> None:
    """The synchronous commits (revocation, shutdown) are not where the re-send happens."""
    assignments = assignments_with(recommit_interval=0.0)
    consumer = SilentConsumer()
    completed_up_to(assignments, consumer, 2)
    assignments.commit(consumer, sync=False)
    state = assignments.get(TOPIC, 0)
    assert state is not None
    assignments.commit(consumer, [state], sync=True)
    assert consumer.commits == [[(TOPIC, 0, 3)]]
