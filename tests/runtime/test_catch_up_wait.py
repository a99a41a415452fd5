"""What the poll thread waits for (`Assignments.wait_out`), with a real dispatcher.

Before fetching more, it waits for the handlers to drain what they were given, but not for the
events that wait for time or for more events: a key backing off in place (and its events queued
behind it), a batch handler's partial batch. No wait speeds those, and waiting for them cost
every poll its whole wait. A drain waits for every event of the partitions it drains.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Iterator

import pytest

from conveyor.runtime import BatchContext, BatchPolicy, Context, Service
from conveyor.runtime.context import NO_PUBLISHER, EventMeta
from conveyor.runtime.dispatcher import Dispatcher
from conveyor.runtime.failure_seam import RetryInPlace
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.partitions import Assignments
from conveyor.runtime.service import Registration
from conveyor.runtime.work import Completion, PartitionState, WorkItem
from tests.runtime.support import Ping

A_LONG_TIME = 3600.0  # a deadline (and a backoff) the waits below must never sit out
BATCH = 4
HANDLER_TIME = 0.3  # long enough that returning before the batch is done would show

handled: list[int] = []
failed: list[int] = []


@pytest.fixture
def batch_registration() -> Registration:
    service = Service("catch-up")

    @service.batch_handler(Ping, BatchPolicy(max_size=BATCH, max_wait=A_LONG_TIME))
    async def load(events: list[Ping], ctx: BatchContext) -> None:
        await asyncio.sleep(HANDLER_TIME)
        handled.extend(event.seq for event in events)

    return registered(service)


@pytest.fixture
def flaky_registration() -> Registration:
    """Per event; the event with seq 0 fails (its key then backs off for A_LONG_TIME)."""
    service = Service("catch-up")

    @service.handler(Ping)
    async def send(event: Ping, ctx: Context) -> None:
        if event.seq == 0:
            failed.append(event.seq)
            raise RuntimeError("the mail server is down")
        handled.append(event.seq)

    return registered(service)


def registered(service: Service) -> Registration:
    found = service.registration_for(Ping)
    assert found is not None
    return found


@pytest.fixture
def reports() -> queue.SimpleQueue[list[Completion]]:
    return queue.SimpleQueue()


@pytest.fixture
def dispatcher(reports: queue.SimpleQueue[list[Completion]]) -> Iterator[Dispatcher]:
    handled.clear()
    failed.clear()
    dispatcher = Dispatcher(
        "catch-up",
        max_in_flight=8,
        sync_workers=1,
        failures=RetryInPlace(A_LONG_TIME),
        publisher=NO_PUBLISHER,
        metrics=RuntimeMetrics("catch-up"),
        completions=reports,
    )
    dispatcher.start()
    yield dispatcher
    dispatcher.stop(timeout=1.0)


@pytest.fixture
def assignments(
    dispatcher: Dispatcher, reports: queue.SimpleQueue[list[Completion]]
) -> Assignments:
    return Assignments(
        "catch-up",
        dispatcher,
        reports,
        RuntimeMetrics("catch-up"),
        max_pending=1000,
        max_uncommitted=2000,
        drain_deadline=1.0,
    )


def submit(
    dispatcher: Dispatcher,
    registration: Registration,
    state: PartitionState,
    events: list[tuple[str, int]],
) -> None:
    """Hand `events` (key, seq) to the dispatcher as the poll loop does, at the next offsets."""
    items = []
    start = 0 if state.tracker.last_tracked is None else state.tracker.last_tracked + 1
    for offset, (key, seq) in enumerate(events, start):
        meta = EventMeta(state.topic, state.partition, offset, None, key, [])
        event = Ping(entity=key, seq=seq)
        items.append(WorkItem(state, offset, key.encode(), event, None, registration, meta=meta))
        state.tracker.track(offset)
    state.outstanding += len(items)
    dispatcher.submit(items)


def numbered(key: str, seqs: range) -> list[tuple[str, int]]:
    return [(key, seq) for seq in seqs]


@pytest.fixture
def batch_and_two_over(dispatcher: Dispatcher, batch_registration: Registration) -> PartitionState:
    """A partition with a full batch handed to the batch handler and two events over, which
    the collector holds until more come."""
    state = PartitionState("runtime.ping", 0)
    submit(dispatcher, batch_registration, state, numbered("k", range(BATCH + 2)))
    return state


@pytest.mark.timeout(30)
def test_fetching_waits_for_the_running_batch_but_not_for_the_one_being_collected(
    assignments: Assignments, dispatcher: Dispatcher, batch_and_two_over: PartitionState
) -> None:
    state = batch_and_two_over

    left = assignments.wait_out([state], A_LONG_TIME, but_waiting=True)

    assert handled == [0, 1, 2, 3]  # the running batch was waited for
    assert left == 2
    assert dispatcher.waiting == 2
    assert state.tracker.position == BATCH


@pytest.mark.timeout(30)
def test_fetching_does_not_wait_for_a_key_backing_off_nor_for_its_later_events(
    assignments: Assignments, dispatcher: Dispatcher, flaky_registration: Registration
) -> None:
    state = PartitionState("runtime.ping", 0)
    submit(dispatcher, flaky_registration, state, [("late", 0), ("late", 1), ("other", 2)])

    assert assignments.wait_out([state], A_LONG_TIME, but_waiting=True) == 2
    assert (failed, handled) == ([0], [2])

    # later events of the key backing off wait too; the others are waited for
    submit(dispatcher, flaky_registration, state, [("late", 3), ("other", 4), ("new", 5)])

    assert assignments.wait_out([state], A_LONG_TIME, but_waiting=True) == 3
    assert (failed, sorted(handled)) == ([0], [2, 4, 5])
    assert dispatcher.waiting == 3
    assert state.tracker.position is None  # nothing passes the event backing off


@pytest.mark.timeout(30)
def test_a_drain_waits_for_every_event_out(
    assignments: Assignments, batch_and_two_over: PartitionState
) -> None:
    left = assignments.wait_out([batch_and_two_over], HANDLER_TIME * 3)

    assert left == 2  # the two being collected kept it waiting to its deadline
    assert handled == [0, 1, 2, 3]


@pytest.mark.timeout(30)
def test_a_drain_drops_what_is_collected_of_its_partitions_only(
    assignments: Assignments, dispatcher: Dispatcher, batch_registration: Registration
) -> None:
    kept, revoked = PartitionState("runtime.ping", 0), PartitionState("runtime.ping", 1)
    submit(dispatcher, batch_registration, kept, numbered("k", range(1)))
    submit(dispatcher, batch_registration, revoked, numbered("k", range(1, 3)))

    assignments.drain([revoked])

    assert (revoked.outstanding, revoked.active) == (0, False)
    assert (kept.outstanding, kept.active) == (1, True)
    assert dispatcher.waiting == 1
    assert handled == []
