"""The partitions this process owns: their offsets, pauses, commits, and rebalance callbacks.

Runs on the poll thread only (librdkafka calls the rebalance callbacks from inside `poll`).
A revoked partition drains (queued work dropped, in-flight work awaited within the deadline) and
commits synchronously; a lost partition drops its work and commits nothing.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from confluent_kafka import KafkaException, TopicPartition

from conveyor import logs
from conveyor.runtime.bounds import PartitionBounds
from conveyor.runtime.dispatcher import Dispatcher
from conveyor.runtime.extension_seam import NO_EXTENSION, RuntimeExtension
from conveyor.runtime.lanes import LaneServing
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.transactions import TransactionAbortedError, Transactions
from conveyor.runtime.work import Completion, PartitionState, Status

LANE_START_TIMEOUT = 5.0  # seconds to learn where a higher lane's partitions start
# Every this many seconds an asynchronous commit sends every owned partition's position, moved or
# not: a commit whose report never comes (librdkafka can leave a request on a group coordinator
# that was paused or left the cluster) is otherwise never sent again once the partition is idle.
RECOMMIT_INTERVAL = 10.0


class Assignments:
    """Per-partition state of one consumer, keyed by (topic, partition)."""

    def __init__(
        self,
        service: str,
        dispatcher: Dispatcher,
        completions: queue.SimpleQueue[list[Completion]],
        metrics: RuntimeMetrics,
        *,
        max_pending: int,
        max_uncommitted: int,
        drain_deadline: float,
        extension: RuntimeExtension = NO_EXTENSION,
        transactions: Transactions | None = None,
        operator_paused: Callable[[str], bool] = lambda topic: False,
        lanes: LaneServing | None = None,
        recommit_interval: float = RECOMMIT_INTERVAL,
    ) -> None:
        self._service = service
        self._dispatcher = dispatcher
        self._completions = completions
        self._metrics = metrics
        self._bounds = PartitionBounds(max_pending, max_uncommitted)
        self._drain_deadline = drain_deadline
        self._extension = extension
        self._transactions = transactions  # commits go through it for transactional services
        self._operator_paused = operator_paused  # `conveyor pause`: by topic, checked every step
        self._lanes = lanes  # priority lanes: a lower lane held back while a higher one waits
        self._states: dict[tuple[str, int], PartitionState] = {}
        self._log = structlog.get_logger("conveyor.runtime").bind(service=service)
        self._recommit_interval = recommit_interval
        self._recommitted_at = time.monotonic()
        self.joined = False

    def get(self, topic: str, partition: int) -> PartitionState | None:
        return self._states.get((topic, partition))

    def __len__(self) -> int:
        return len(self._states)

    @property
    def outstanding(self) -> int:
        """Events out with the dispatcher, over all owned partitions."""
        return sum(state.outstanding for state in self._states.values())

    # -- rebalance callbacks ---------------------------------------------------------------------
    def on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self.joined = True
        # still ours by our count, so their revocation never reached us: their work is stale
        self._drop(consumer, self._take(partitions))
        assigned = []
        for tp in partitions:
            state = self._new_state(tp.topic, tp.partition)
            self._states[(tp.topic, tp.partition)] = state
            assigned.append(state)
            self._log.info(logs.PARTITION_ASSIGNED, topic=tp.topic, partition=tp.partition)
        paused = [s for s in assigned if self._operator_paused(s.topic)]
        # A pause outlives the assignment in librdkafka (the consumer protocol keeps it through
        # a revocation and a new assignment): a new state starts unpaused, and so must the client
        fetching = [s for s in assigned if not self._operator_paused(s.topic)]
        if fetching:
            consumer.resume([TopicPartition(s.topic, s.partition) for s in fetching])
        if paused:
            # paused before the first fetch: assign here (the client then does not) and pause
            consumer.incremental_assign(partitions)
            self._set_paused(consumer, paused, paused=True)
        if self._lanes is not None:
            self._lanes.assigned(consumer, assigned, LANE_START_TIMEOUT)
        self._extension.on_assigned(assigned)

    def _new_state(self, topic: str, partition: int) -> PartitionState:
        rank = 0 if self._lanes is None else self._lanes.rank(topic)
        return PartitionState(topic, partition, rank=rank)

    def on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        states = self._take(partitions)
        self.drain(states)
        self.commit(consumer, states, sync=True)
        self._forget(consumer, states, lost=False)

    def on_lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._drop(consumer, self._take(partitions))

    def _drop(self, consumer: Any, states: list[PartitionState]) -> None:
        """Forget `states` without a drain or a commit: their work is abandoned."""
        if not states:
            return
        for state in states:
            state.active = False
        self._dispatcher.discard(states)
        self._forget(consumer, states, lost=True)

    def _take(self, partitions: list[TopicPartition]) -> list[PartitionState]:
        found = (self._states.get((tp.topic, tp.partition)) for tp in partitions)
        return [state for state in found if state is not None]

    def _forget(self, consumer: Any, states: list[PartitionState], *, lost: bool) -> None:
        # a pause outlives the assignment in librdkafka: undo ours before the partition goes
        self._set_paused(consumer, [s for s in states if s.paused], paused=False)
        self._extension.on_revoked(states)
        if self._lanes is not None:
            self._lanes.revoked(states)
        for state in states:
            state.active = False
            self._states.pop((state.topic, state.partition), None)
            self._metrics.forget_partition(state.topic, state.partition)
            self._log.info(
                logs.PARTITION_LOST if lost else logs.PARTITION_REVOKED,
                topic=state.topic,
                partition=state.partition,
            )

    # -- completions, pauses ---------------------------------------------------------------------
    def collect(self, wait: float = 0.0) -> None:
        """Apply the dispatcher's reports; waits up to `wait` seconds for the first one."""
        try:
            batch = self._completions.get(timeout=wait) if wait else self._completions.get_nowait()
        except queue.Empty:
            return
        while True:
            for state, offset, status in batch:
                state.outstanding -= 1
                if status is Status.DONE and state.active:
                    state.tracker.complete(offset)
            try:
                batch = self._completions.get_nowait()
            except queue.Empty:
                return

    def drain(self, states: list[PartitionState]) -> None:
        """Drop queued work of `states` and wait for their in-flight work, up to the deadline."""
        self._dispatcher.discard(states)
        left = self.wait_out(states, self._drain_deadline)
        if left:
            self._log.warning(logs.DRAIN_TIMED_OUT, abandoned=left)
        for state in states:
            state.active = False

    def wait_out(
        self, states: list[PartitionState], seconds: float, *, but_waiting: bool = False
    ) -> int:
        """Apply reports until `states` have no events out with the dispatcher (if `but_waiting`:
        none but those waiting for time or more events, see `Dispatcher.waiting`), or `seconds`
        have passed; returns how many are still out."""
        deadline = time.monotonic() + seconds
        while True:
            left = sum(state.outstanding for state in states)
            remaining = deadline - time.monotonic()
            may_stay = self._dispatcher.waiting if but_waiting else 0
            if left <= may_stay or remaining <= 0:
                return left
            self.collect(wait=remaining)

    def pause_full(self, consumer: Any) -> None:
        full = [
            s
            for s in self._states.values()
            if not s.paused
            and (
                s.held
                or self._operator_paused(s.topic)
                or self._bounds.full(s.outstanding, s.tracker.pending)
                or self._lane_held(s.topic)
            )
        ]
        self._set_paused(consumer, full, paused=True)

    def resume_drained(self, consumer: Any) -> None:
        drained = [
            s
            for s in self._states.values()
            if s.paused
            and not s.held
            and not self._operator_paused(s.topic)
            and not self._lane_held(s.topic)
            and self._bounds.drained(s.outstanding, s.tracker.pending)
        ]
        self._set_paused(consumer, drained, paused=False)

    def _lane_held(self, topic: str) -> bool:
        return self._lanes is not None and self._lanes.held(topic)

    def _set_paused(self, consumer: Any, states: list[PartitionState], *, paused: bool) -> None:
        if not states:
            return
        tps = [TopicPartition(s.topic, s.partition) for s in states]
        (consumer.pause if paused else consumer.resume)(tps)
        for state in states:
            state.paused = paused
            # a lane's holds come and go with each urgent event: debug lines (`lanes.held` too)
            laned = self._lanes is not None and state.topic in self._lanes.gate.topics
            (self._log.debug if laned else self._log.info)(
                logs.PARTITION_PAUSED if paused else logs.PARTITION_RESUMED,
                topic=state.topic,
                partition=state.partition,
            )

    # -- commits ---------------------------------------------------------------------------------
    def commit(
        self, consumer: Any, states: Iterable[PartitionState] | None = None, *, sync: bool
    ) -> None:
        """Commit each partition's completed prefix that moved since the last commit (an
        asynchronous commit sends every position again once per recommit interval)."""
        chosen = list(self._states.values() if states is None else states)
        again = not sync and self._recommit_due()
        due = [
            s
            for s in chosen
            if s.tracker.position is not None and (again or s.tracker.position != s.committed)
        ]
        for state in chosen:
            self._metrics.pending.labels(self._service, state.topic, str(state.partition)).set(
                state.tracker.pending
            )
        if not due:
            return
        if self._transactions is not None:
            self._commit_transaction(consumer, self._transactions, due)
            return
        offsets = []
        for state in due:
            position = state.tracker.position
            if position is not None:
                state.committed = position
                offsets.append(TopicPartition(state.topic, state.partition, position))
        try:
            if sync:
                self.on_commit(None, consumer.commit(offsets=offsets, asynchronous=False))
            else:
                consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as error:
            for state in due:
                state.committed = None  # try again next time
            self._log.warning(logs.OFFSETS_COMMIT_FAILED, error=str(error.args[0]))

    def _recommit_due(self) -> bool:
        """True once per recommit interval, for commits outside a transaction (whose offsets
        are sent again in the next transaction when one fails)."""
        now = time.monotonic()
        if self._transactions is not None or now - self._recommitted_at < self._recommit_interval:
            return False
        self._recommitted_at = now
        return True

    def _commit_transaction(
        self, consumer: Any, transactions: Transactions, due: list[PartitionState]
    ) -> None:
        """One transaction: the follow-ups of the newly completed events, and their offsets."""
        positions = [(s, s.tracker.position) for s in due if s.tracker.position is not None]
        try:
            transactions.commit(consumer, positions)
        except TransactionAbortedError:
            self.rewind(consumer, transactions, due)
            return
        for state, position in positions:
            state.committed = position
        self.on_commit(None, [TopicPartition(s.topic, s.partition, p) for s, p in positions])

    def rewind(
        self, consumer: Any, transactions: Transactions, states: list[PartitionState]
    ) -> None:
        """After an aborted transaction: read the still owned `states` again from their committed
        offsets, as fresh assignments (their queued and in-flight work is dropped)."""
        live = [s for s in states if s.active and self.get(s.topic, s.partition) is s]
        if not live:
            return  # revoked or shutting down: the next owner reads from the committed offsets
        self.drain(live)
        self._set_paused(consumer, [s for s in live if s.paused], paused=False)
        self._extension.on_revoked(live)
        fresh = [self._new_state(s.topic, s.partition) for s in live]
        for state in fresh:
            self._states[(state.topic, state.partition)] = state
        for tp in transactions.rewind_positions(consumer, live):
            consumer.seek(tp)  # a failure raises: carrying on would skip the rewound events
            self._log.info(
                logs.PARTITION_REWOUND, topic=tp.topic, partition=tp.partition, offset=tp.offset
            )
        self._extension.on_assigned(fresh)

    def on_commit(self, error: Any, partitions: list[TopicPartition]) -> None:
        """librdkafka's commit report (async commits), also fed the result of sync ones.
        A failed partition is marked uncommitted so the next commit (or the one on revoke or
        shutdown) sends its position again."""
        for tp in partitions:
            failure = error if error is not None else tp.error
            if failure is not None:
                state = self._states.get((tp.topic, tp.partition))
                if state is not None and state.committed == tp.offset:
                    state.committed = None
                self._log.warning(
                    logs.OFFSETS_COMMIT_FAILED,
                    topic=tp.topic,
                    partition=tp.partition,
                    error=str(failure),
                )
                continue
            labels = (self._service, tp.topic, str(tp.partition))
            self._metrics.committed.labels(*labels).set(tp.offset)
            self._log.debug(
                logs.OFFSETS_COMMITTED, topic=tp.topic, partition=tp.partition, offset=tp.offset
            )

    def states(self) -> list[PartitionState]:
        return list(self._states.values())
