"""The membership watch's judgement, on answers made up here (the broker test is
`test_stranded_member.py`): a dispute must last `checks` answers before it counts."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from conveyor.runtime.membership import MembershipWatch, Partition, StrandedPartitions

A, B, C = ("t", 0), ("t", 1), ("t", 2)


def _set(*partitions: Partition) -> frozenset[Partition]:
    return frozenset(partitions)


def test_partitions_owned_and_not_counted_in_three_answers_are_stranded() -> None:
    partitions = StrandedPartitions(checks=3)
    for _ in range(2):
        partitions.observe(_set(A, B, C), _set(A, B))
        assert not partitions.confirmed
    partitions.observe(_set(A, B, C), _set(A, B))
    assert partitions.stranded(_set(A, B, C)) == _set(C)


def test_partitions_counted_and_not_owned_are_stranded_too() -> None:
    partitions = StrandedPartitions(checks=2)
    partitions.observe(_set(A), _set(A, B))
    partitions.observe(_set(A), _set(A, B))
    assert partitions.stranded(_set(A)) == _set(B)


def test_an_answer_that_agrees_ends_the_streak() -> None:
    partitions = StrandedPartitions(checks=3)
    partitions.observe(_set(A, B), _set(A))
    partitions.observe(_set(A, B), _set(A))
    partitions.observe(_set(A), _set(A))  # the revocation went through
    partitions.observe(_set(A, B), _set(A))
    assert not partitions.confirmed


def test_only_the_partitions_disputed_in_every_answer_count() -> None:
    partitions = StrandedPartitions(checks=2)
    partitions.observe(_set(A, B, C), _set(A))  # B and C
    partitions.observe(_set(A, C), _set(A))  # C only: B was handed back meanwhile
    assert partitions.stranded(_set(A, C)) == _set(C)


def test_a_partition_whose_ownership_changed_since_the_answer_is_not_stranded() -> None:
    partitions = StrandedPartitions(checks=1)
    partitions.observe(_set(A, B), _set(A))
    assert partitions.stranded(_set(A)) == frozenset()  # B was revoked after the answer


@dataclass
class FakeConsumer:
    member: str = "me"
    owned: list[TopicPartition] = field(default_factory=list)

    def memberid(self) -> str:
        return self.member

    def assignment(self) -> list[TopicPartition]:
        return self.owned


@dataclass
class Member:
    member_id: str
    assignment: Any


@dataclass
class Assignment:
    topic_partitions: list[TopicPartition]


@dataclass
class Group:
    members: list[Member]


class Coordinator:
    """Answers each question with what `counts` says now, when the test lets it."""

    def __init__(self, counts: list[TopicPartition]) -> None:
        self.counts = counts
        self.asked: list[Future[Any]] = []
        self.fail_next = False

    def describe(self, group: str) -> Future[Any]:
        future: Future[Any] = Future()
        self.asked.append(future)
        return future

    def answer(self) -> None:
        future = self.asked[-1]
        if self.fail_next:
            future.set_exception(KafkaException(KafkaError(KafkaError._TIMED_OUT)))
            return
        future.set_result(Group([Member("other", None), Member("me", Assignment(self.counts))]))


def test_the_watch_asks_without_waiting_and_reports_a_stranded_member() -> None:
    coordinator = Coordinator([TopicPartition("t", 0)])
    consumer = FakeConsumer(owned=[TopicPartition("t", 0), TopicPartition("t", 1)])
    watch = MembershipWatch("g", coordinator.describe, interval=0.0, checks=2)
    assert watch.look(consumer) == frozenset()  # asked; no answer yet
    assert len(coordinator.asked) == 1
    assert watch.look(consumer) == frozenset()  # still no answer: not asked again
    assert len(coordinator.asked) == 1
    coordinator.answer()
    assert watch.look(consumer) == frozenset()  # one answer disputes t[1], then asks again
    coordinator.answer()
    assert watch.look(consumer) == _set(B)
    watch.rejoined()
    assert watch.look(consumer) == frozenset()


def test_a_failed_question_counts_for_nothing() -> None:
    coordinator = Coordinator([TopicPartition("t", 0)])
    consumer = FakeConsumer(owned=[TopicPartition("t", 0), TopicPartition("t", 1)])
    watch = MembershipWatch("g", coordinator.describe, interval=0.0, checks=2)
    watch.look(consumer)
    coordinator.answer()
    watch.look(consumer)
    coordinator.fail_next = True
    coordinator.answer()
    assert watch.look(consumer) == frozenset()
    coordinator.fail_next = False
    coordinator.answer()
    assert watch.look(consumer) == _set(B)


def test_a_member_missing_from_the_answer_is_not_compared() -> None:
    coordinator = Coordinator([])
    consumer = FakeConsumer(member="someone else", owned=[TopicPartition("t", 0)])
    watch = MembershipWatch("g", coordinator.describe, interval=0.0, checks=1)
    for _ in range(3):
        watch.look(consumer)
        coordinator.answer()
    assert watch.look(consumer) == frozenset()
