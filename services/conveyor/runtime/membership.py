"""Whether this process and its group's coordinator still agree on what the process owns.

Under the consumer group protocol (KIP-848), librdkafka (2.16 and before) times a heartbeat out
after one heartbeat interval and then sends the same request again. When the coordinator had
answered the first one with a new assignment, that answer is lost: the coordinator sends an
assignment again only when it changes. The member then keeps partitions the coordinator counts
as being revoked (the members waiting for them are given nothing), or never takes up partitions
the coordinator counts as its own, and the partitions concerned are read by no one, for good. A
coordinator slower than the heartbeat interval while the group rebalances is enough (a busy or
paused broker; the chaos suite found it, `tests/runtime/test_stranded_member.py` brings it
about).

So a process on that protocol can ask the coordinator (DescribeConsumerGroups) every few seconds
(`CONVEYOR_MEMBERSHIP_CHECK_S`) which partitions it counts as this member's. Partitions the
process and the coordinator disagree about in `STRANDED_CHECKS` answers in a row are stranded:
the loop then drains and commits what it holds, leaves the group, and joins it again as a new
member, which is given its assignment afresh. A rebalance in progress is not stranded:
librdkafka hands the process a new assignment within a heartbeat or two, well inside one check.

The look runs on the loop's thread without waiting: it sends the request, and a later look reads
the answer once it is there (a question unanswered after `ANSWER_WITHIN` is given up).

It is off unless `CONVEYOR_MEMBERSHIP_CHECK_S` is set: in the chaos suite, with the question
asked every 5 s under a 10 s request timeout, librdkafka 2.16 aborted three processes during a
coordinator pause (`rd_kafka_enq_once_del_source_return: Assertion eonce->refcnt > 0`, in its
coordinator request path for admin calls). The request timeout is now 30 s, longer than a
coordinator's pause lasts before its group moves, and the watch stays a choice: a process that
may stop, against one that may sit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final

from confluent_kafka import KafkaException, TopicPartition

Partition = tuple[str, int]  # (topic, partition)

STRANDED_CHECKS: Final = 3  # answers in a row that dispute the same partitions
REQUEST_TIMEOUT: Final = 30.0  # seconds the admin client gives the coordinator to answer
ANSWER_WITHIN: Final = 45.0  # seconds; a question still unanswered then is given up


class StrandedPartitions:
    """The partitions this process and the coordinator disagreed about in `checks` answers in a
    row: owned and not counted as this member's, or counted and not owned."""

    def __init__(self, checks: int = STRANDED_CHECKS) -> None:
        self._checks = checks
        self._disputed: frozenset[Partition] = frozenset()
        self._owned: frozenset[Partition] = frozenset()  # as of the last answer
        self._streak = 0

    def observe(self, owned: frozenset[Partition], counted: frozenset[Partition]) -> None:
        """One answer: the process owned `owned` when it asked, the coordinator counts
        `counted` as this member's."""
        disputed = owned ^ counted
        self._disputed = disputed if self._streak == 0 else self._disputed & disputed
        self._streak = self._streak + 1 if self._disputed else 0
        self._owned = owned

    def forget(self) -> None:
        self._disputed, self._streak = frozenset(), 0

    @property
    def confirmed(self) -> bool:
        """`checks` answers in a row disputed some partitions."""
        return self._streak >= self._checks

    def stranded(self, owned_now: frozenset[Partition]) -> frozenset[Partition]:
        """The disputed partitions, once confirmed, whose ownership the process has not changed
        since the last answer (a late rebalance may have settled them)."""
        if not self.confirmed:
            return frozenset()
        changed = owned_now ^ self._owned
        return self._disputed - changed


Describe = Callable[[str], "Future[Any]"]  # group -> the future of its ConsumerGroupDescription


@dataclass(frozen=True)
class _Question:
    """A question out to the coordinator: its answer, who asked, what it owned, and when."""

    answer: Future[Any]
    member: str
    owned: frozenset[Partition]
    at: float


class MembershipWatch:
    """Asks the coordinator about this member every `interval` seconds; `look` returns the
    stranded partitions (none, nearly always)."""

    def __init__(
        self,
        group: str,
        describe: Describe,
        *,
        interval: float,
        checks: int = STRANDED_CHECKS,
    ) -> None:
        self._group = group
        self._describe = describe
        self._interval = interval
        self._partitions = StrandedPartitions(checks)
        self._next = time.monotonic() + interval
        self._asked: _Question | None = None

    def look(self, consumer: Any) -> frozenset[Partition]:
        """On the loop's thread, between polls: cheap unless a question or an answer is due."""
        now = time.monotonic()
        asked = self._asked
        if asked is not None and asked.answer.done():
            self._read_answer(asked)
            self._asked = None
        elif asked is not None and now - asked.at > ANSWER_WITHIN:
            self._asked = None  # given up: the next question goes out now
        if self._asked is None and now >= self._next:
            self._next = now + self._interval
            self._ask(consumer)
        if not self._partitions.confirmed:
            return frozenset()  # the common case: no call into the consumer
        return self._partitions.stranded(_owned(consumer))

    def rejoined(self) -> None:
        """The member left and joined again: what it learned is about the old member."""
        self._partitions.forget()
        self._asked = None
        self._next = time.monotonic() + self._interval

    def _ask(self, consumer: Any) -> None:
        member = consumer.memberid()
        if not member:
            return  # not in the group yet
        try:
            future = self._describe(self._group)
        except KafkaException:
            return  # the admin client refuses at once (e.g. its queue is full): next time
        self._asked = _Question(future, member, _owned(consumer), time.monotonic())

    def _read_answer(self, asked: _Question) -> None:
        try:
            group = asked.answer.result()
        except KafkaException:
            return  # no answer this time (a coordinator moving, a broker down): next time
        for described in group.members:
            if described.member_id == asked.member:
                assignment = described.assignment
                tps = assignment.topic_partitions if assignment is not None else []
                counted = frozenset((tp.topic, tp.partition) for tp in tps)
                self._partitions.observe(asked.owned, counted)
                return
        # this member is not (or no longer) in the group as described: nothing to compare


def _owned(consumer: Any) -> frozenset[Partition]:
    tps: list[TopicPartition] = consumer.assignment()
    return frozenset((tp.topic, tp.partition) for tp in tps)


def describer(admin: Any) -> Describe:
    """`Describe` through an admin client (conveyor.clients.admin_client)."""

    def describe(group: str) -> Future[Any]:
        futures = admin.describe_consumer_groups([group], request_timeout=REQUEST_TIMEOUT)
        future: Future[Any] = futures[group]
        return future

    return describe
