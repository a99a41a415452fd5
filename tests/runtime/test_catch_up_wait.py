"""What the poll thread waits for before it fetches more (`Assignments.wait_out`).

Fetching waits for the handlers to finish what it gave them, but not for the events a batch
handler is still collecting: only more events (or the batch's wait) complete that batch, so
waiting for them would cost every poll the whole wait.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Iterator

import pytest

from conveyor.runtime import BatchContext, BatchPolicy, Service
from conveyor.runtime.context import NO_PUBLISHER, EventMeta
from conveyor.runtime.dispatcher import Dispatcher
from conveyor.runtime.failures import RetryInPlace
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.partitions import Assignments
from conveyor.runtime.service import Registration
from conveyor.runtime.work import Completion, PartitionState, WorkItem
from tests.runtime.support import Ping

A_LONG_TIME = 3600.0  # a deadline the waits below must never sit out
BATCH = 4
HANDLER_TIME = 0.3  # long enough that returning before the batch is done would show

handled: list[int] = []


@pytest.fixture
def registration() -> Registration:
    service = Service("catch-up")

    @service.batch_handler(Ping, BatchPolicy(max_size=BATCH, max_wait=A_LONG_TIME))
    async def load(events: list[Ping], ctx: BatchContext) -> None:
        await asyncio.sleep(HANDLER_TIME)
        handled.extend(event.seq for event in events)

    found = service.registration_for(Ping)
    assert found is not None
    return found


@pytest.fixture
def dispatcher(reports: queue.SimpleQueue[list[Completion]]) -> Iterator[Dispatcher]:
    handled.clear()
    dispatcher = Dispatcher(
        "catch-up",
        max_in_flight=8,
        sync_workers=1,
        failures=RetryInPlace(0.1),
        publisher=NO_PUBLISHER,
        metrics=RuntimeMetrics("catch-up"),
        completions=reports,
    )
    dispatcher.start()
    yield dispatcher
    dispatcher.stop(timeout=1.0)


@pytest.fixture
def reports() -> queue.SimpleQueue[list[Completion]]:
    return queue.SimpleQueue()


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
    dispatcher: Dispatcher, registration: Registration, state: PartitionState, count: int
) -> None:
    items = []
    for offset in range(count):
        meta = EventMeta(state.topic, state.partition, offset, None, "k", [])
        event = Ping(entity="k", seq=offset)
        items.append(WorkItem(state, offset, b"k", event, None, registration, meta=meta))
        state.tracker.track(offset)
    state.outstanding += count
    dispatcher.submit(items)


@pytest.mark.timeout(30)
def test_fetching_waits_for_the_running_batch_but_not_for_the_one_being_collected(
    assignments: Assignments, dispatcher: Dispatcher, registration: Registration
) -> None:
    state = PartitionState("runtime.ping", 0)
    submit(dispatcher, registration, state, BATCH + 2)  # a full batch, and two events over

    left = assignments.wait_out([state], A_LONG_TIME, but_collecting=True)

    assert handled == [0, 1, 2, 3]  # the running batch was waited for
    assert left == 2
    assert dispatcher.collecting == 2
    assert state.tracker.position == BATCH


@pytest.mark.timeout(30)
def test_a_drain_waits_for_every_event_out(
    assignments: Assignments, dispatcher: Dispatcher, registration: Registration
) -> None:
    state = PartitionState("runtime.ping", 0)
    submit(dispatcher, registration, state, BATCH + 2)

    left = assignments.wait_out([state], HANDLER_TIME * 3)

    assert left == 2  # the two being collected kept it waiting to its deadline
    assert handled == [0, 1, 2, 3]


@pytest.mark.timeout(30)
def test_collected_events_of_a_revoked_partition_are_no_longer_counted(
    assignments: Assignments, dispatcher: Dispatcher, registration: Registration
) -> None:
    kept, revoked = PartitionState("runtime.ping", 0), PartitionState("runtime.ping", 1)
    submit(dispatcher, registration, kept, 1)
    submit(dispatcher, registration, revoked, 2)

    assignments.drain([revoked])

    assert revoked.outstanding == 0
    assert dispatcher.collecting == 1
    assert assignments.wait_out([kept], A_LONG_TIME, but_collecting=True) == 1
