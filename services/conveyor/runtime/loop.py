"""The poll loop: one short method of named steps, on the thread that owns the consumer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import KafkaError, TopicPartition

from conveyor import logs
from conveyor.clients.transient import FATAL_CODES
from conveyor.log_output import CONSUMER_ERROR_INTERVAL, Repeats
from conveyor.runtime import lag
from conveyor.runtime.dispatcher import Dispatcher
from conveyor.runtime.errors import ConsumerFailedError
from conveyor.runtime.health import Health
from conveyor.runtime.holds import Holds
from conveyor.runtime.lanes import LaneServing
from conveyor.runtime.membership import MembershipWatch
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.partitions import Assignments
from conveyor.runtime.router import Router
from conveyor.runtime.work import PartitionState, WorkItem

POLL_BATCH = 500  # at most; never more than half a partition's pending bound (`batch_for`)
AHEAD_WAIT = 0.005  # how long fetching waits for handlers to catch up before it goes on
IDLE_WAIT = 0.1  # nothing in flight: only new messages can need us
BUSY_WAIT = 0.005  # work in flight: completions may free a key, a commit or a paused partition


@dataclass(frozen=True)
class Membership:
    """The watch on this member (see `conveyor.runtime.membership`), and how to make a new,
    subscribed consumer when the member has to join the group again."""

    watch: MembershipWatch
    connect: Callable[[], Any]


class ConsumerLoop:
    """Fetches, dispatches, and commits until stopped; then drains and leaves the group."""

    def __init__(
        self,
        service: str,
        consumer: Any,
        *,
        router: Router,
        dispatcher: Dispatcher,
        assignments: Assignments,
        metrics: RuntimeMetrics,
        health: Health,
        commit_interval: float,
        holds: Holds | None = None,
        lanes: LaneServing | None = None,
        batch: int = POLL_BATCH,
        membership: Membership | None = None,
    ) -> None:
        self._service = service
        self._consumer = consumer
        self._router = router
        self._dispatcher = dispatcher
        self._assignments = assignments
        self._metrics = metrics
        self._health = health
        self._commit_interval = commit_interval
        self._holds = holds  # None: nothing is ever held back
        self._lanes = lanes  # None: the service reads no topic with lanes
        self._batch = batch
        self._membership = membership  # None: the coordinator is never asked about this member
        self._next_commit = time.monotonic() + commit_interval
        self._log = structlog.get_logger("conveyor.runtime").bind(service=service)
        self._skipped: dict[str, Any] = {}  # the skipped counter's child per topic
        self._error_repeats = Repeats(CONSUMER_ERROR_INTERVAL)

    def run(self, stop: threading.Event) -> int:
        """Consume until `stop` is set or a handler failure is fatal; returns the exit code."""
        while not stop.is_set() and self._dispatcher.fatal is None:
            self._serve_higher_lanes_first()
            self._resume_drained_partitions()
            self._release_held()
            self._let_handlers_catch_up()
            messages = self._poll()
            self._dispatch(messages)
            self._collect_results()
            self._pause_full_partitions()
            self._commit_if_due()
            self._rejoin_if_stranded()
        return self._shut_down()

    def _serve_higher_lanes_first(self) -> None:
        # before the poll: a lower lane's events fetched with an urgent one are dropped by the
        # pause rather than consumed ahead of it
        lanes = self._lanes
        if lanes is not None and lanes.update(self._consumer, self._assignments.states()):
            self._assignments.pause_full(self._consumer)

    def _resume_drained_partitions(self) -> None:
        self._assignments.resume_drained(self._consumer)

    def _release_held(self) -> None:
        if self._holds is not None:
            self._submit(self._holds.release(time.time()))

    def _let_handlers_catch_up(self) -> None:
        # Fetching faster than handlers finish only queues events: with the GIL shared, it even
        # slows the handlers, until partitions reach their bound and are paused, which throws
        # away what librdkafka prefetched for them. So while a whole batch is still out, wait
        # (briefly: the bound per partition still holds the rest) for the handlers to drain it:
        # all of it but what waits for time or more events (a key backing off in place, and the
        # events queued behind it; a batch handler's partial batch), which no wait here speeds.
        # Lanes held back fetch nothing meanwhile: only the others' events count then.
        if self._assignments.outstanding >= self._batch:
            states = self._assignments.states()
            lanes = self._lanes
            if lanes is not None and lanes.fetching_outstanding(states) < self._batch:
                return
            self._assignments.wait_out(states, AHEAD_WAIT, but_waiting=True)

    def _poll(self) -> list[Any]:
        # consume(n, timeout) waits for n messages or the timeout: take what is there at once,
        # and only when nothing is, wait for the first message (then what arrived with it).
        messages: list[Any] = self._consumer.consume(self._batch, 0)
        if not messages:
            wait = BUSY_WAIT if self._assignments.outstanding else IDLE_WAIT
            messages = self._consumer.consume(1, wait)
            if messages and self._batch > 1:
                messages.extend(self._consumer.consume(self._batch - 1, 0))
        self._health.polled(assigned=self._assignments.joined)
        return messages

    def _dispatch(self, messages: list[Any]) -> None:
        lanes = self._lanes
        if lanes is None or len(messages) < 2:
            self._dispatch_run(messages)
            return
        # an urgent event fetched with a lower lane's: decoded and handed over before them
        for run in lanes.by_rank(messages):
            self._dispatch_run(run)

    def _dispatch_run(self, messages: list[Any]) -> None:
        items: list[WorkItem] = []
        skipped: dict[str, int] = {}
        previous: PartitionState | None = None
        for message in messages:
            if message.error() is not None:
                self._on_consumer_error(message.error())
                continue
            state = self._assignments.get(message.topic(), message.partition())
            offset = message.offset()
            if state is None or not state.tracker.track_if_new(offset):
                continue  # not ours (any more), or already fetched once
            if state is not previous:  # a run of this partition's events begins: see `lag`
                state.runs.append((offset, message.timestamp()[1]))
                previous = state
            item = self._router.route(message, state, offset)
            if item is None:
                state.tracker.complete(offset)
                skipped[state.topic] = skipped.get(state.topic, 0) + 1
                continue
            items.append(item)
        if skipped:
            self._count_skipped(skipped)
        self._submit(items if self._holds is None else self._holds.filter(items, time.time()))

    def _count_skipped(self, skipped: dict[str, int]) -> None:
        for topic, count in skipped.items():
            counter = self._skipped.get(topic)
            if counter is None:
                counter = self._skipped[topic] = self._metrics.skipped.labels(self._service, topic)
            counter.inc(count)
            self._log.debug(logs.EVENT_SKIPPED, topic=topic, count=count)

    def _submit(self, items: list[WorkItem]) -> None:
        if not items:
            return
        for item in items:
            item.partition.outstanding += 1
        self._dispatcher.submit(items)

    def _collect_results(self) -> None:
        self._assignments.collect()

    def _pause_full_partitions(self) -> None:
        self._assignments.pause_full(self._consumer)

    def _commit_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_commit:
            return
        self._next_commit = now + self._commit_interval
        self._assignments.commit(self._consumer, sync=False)
        self._record_lag()

    def _record_lag(self) -> None:
        lag.record(self._metrics, self._consumer, self._assignments.states(), _now_ms())

    def _rejoin_if_stranded(self) -> None:
        membership = self._membership
        if membership is None:
            return
        stranded = membership.watch.look(self._consumer)
        if not stranded:
            return
        self._log.warning(
            logs.GROUP_MEMBER_STRANDED,
            partitions=[f"{topic}[{partition}]" for topic, partition in sorted(stranded)],
        )
        self._metrics.rejoins.inc()
        # as a revocation of everything: drained, committed, forgotten; then a new member
        owned = [TopicPartition(s.topic, s.partition) for s in self._assignments.states()]
        self._assignments.on_revoke(self._consumer, owned)
        self._consumer.close()
        self._consumer = membership.connect()
        membership.watch.rejoined()

    def _on_consumer_error(self, error: KafkaError) -> None:
        # A refusal (authentication, TLS, authorization) repeats forever unless someone acts:
        # the service stops on it, uncommitted, rather than poll on in vain.
        fatal = error.fatal() or error.code() in FATAL_CODES
        held_back = 0 if fatal else self._error_repeats.admit(error.name())
        if held_back is not None:  # an outage repeats its error each poll: see `Repeats`
            self._log.warning(
                logs.CONSUMER_ERROR, error=str(error), fatal=fatal, held_back=held_back
            )
        if fatal:
            raise ConsumerFailedError(str(error))

    def _shut_down(self) -> int:
        """Stop fetching, drain in-flight work within the deadline, commit, leave the group."""
        self._log.info(logs.SERVICE_STOPPING)
        self._health.stopping()
        states = self._assignments.states()
        self._assignments.drain(states)
        self._assignments.commit(self._consumer, states, sync=True)
        self._consumer.close()
        self._log.info(logs.SERVICE_STOPPED)
        return 0 if self._dispatcher.fatal is None else 1


def _now_ms() -> int:
    return int(time.time() * 1000)


def batch_for(max_pending_per_partition: int) -> int:
    """Messages fetched per poll: a batch may be one partition's alone, and one that filled its
    pending bound would pause it at once (throwing away librdkafka's prefetch)."""
    return max(1, min(POLL_BATCH, max_pending_per_partition // 2))
