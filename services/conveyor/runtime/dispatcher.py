"""Runs handlers: async ones on an event loop thread, sync ones on a thread pool.

Owns the key scheduler, the workers and the batch collectors; every method prefixed `_` runs on
the loop thread. Finished items go back to the poll thread on the `completions` queue, one list
per turn of the loop rather than one message per event.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Awaitable, Callable, Collection, Coroutine, Hashable
from dataclasses import replace
from time import perf_counter
from typing import Any

import structlog

from conveyor.runtime.batching import BatchCollector
from conveyor.runtime.context import BatchContext, Context, FollowUpPublisher
from conveyor.runtime.extension_seam import NO_EXTENSION, RuntimeExtension
from conveyor.runtime.failure_seam import Failure, FailureHandler, Fatal, Forwarded, RetryAfter
from conveyor.runtime.logs import EVENT_FAILED, EVENT_FATAL, EVENT_PROCESSED, is_debug_enabled
from conveyor.runtime.metrics import EventMeters, RuntimeMetrics
from conveyor.runtime.scheduler import KeyScheduler
from conveyor.runtime.service import Registration
from conveyor.runtime.threads import ThreadBridge
from conveyor.runtime.work import Completion, PartitionState, Status, Waiting, WorkItem
from conveyor.runtime.workers import Workers
from conveyor.tracing.seam import NO_TRACING, Handling, Tracing


class Dispatcher:
    """Key-ordered, bounded concurrent execution of work items."""

    def __init__(
        self,
        service: str,
        *,
        max_in_flight: int,
        sync_workers: int,
        failures: FailureHandler,
        publisher: FollowUpPublisher,
        metrics: RuntimeMetrics,
        completions: queue.SimpleQueue[list[Completion]],
        extension: RuntimeExtension = NO_EXTENSION,
        publisher_for: Callable[[WorkItem], FollowUpPublisher] | None = None,
        tracing: Tracing = NO_TRACING,
    ) -> None:
        self._service = service
        # Off, tracing costs one bool test per attempt: no header is read, nothing allocated.
        self._tracing = tracing
        self._traced = tracing.enabled
        self._failures = failures
        self._extension = extension
        self._publisher = publisher
        self._publisher_for = publisher_for  # per attempt (transactional follow-ups), if set
        self._metrics = metrics
        self._completions = completions
        self._scheduler: KeyScheduler[WorkItem] = KeyScheduler(max_in_flight)
        self._batches: dict[Registration, BatchCollector] = {}
        self._waiting = Waiting()  # batch collectors' events, unscheduled events backing off
        self._pool = concurrent.futures.ThreadPoolExecutor(sync_workers, "conveyor-handler")
        self._loop = asyncio.new_event_loop()
        self._threads = ThreadBridge(self._loop, self._pool, sync_workers)
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="conveyor-loop")
        self._tasks: set[asyncio.Task[None]] = set()
        self._workers: Workers[WorkItem] = Workers(
            self._loop, self._run_one, self._spawn, max_in_flight
        )
        self._guarded = extension is not NO_EXTENSION
        self._finished: list[Completion] = []
        self._processed: dict[EventMeters, int] = {}  # per loop turn, added to the meters at once
        self._log = structlog.get_logger("conveyor.runtime")
        self._meters_of: dict[Registration | None, EventMeters] = {}
        self._log_each = False
        metrics.in_flight.set_function(lambda: self._scheduler.in_flight)
        self.fatal: BaseException | None = None

    # -- called from the poll thread -------------------------------------------------------------
    def start(self) -> None:
        self._log_each = is_debug_enabled(self._log)
        self._loop_thread.start()

    def submit(self, items: list[WorkItem]) -> None:
        self._loop.call_soon_threadsafe(self._accept, items)

    @property
    def waiting(self) -> int:
        """Events out with the dispatcher that wait for time or for more events, not for a
        handler (see `Waiting`); read from the poll thread."""
        return self._scheduler.waiting + self._waiting.count

    def discard(self, partitions: Collection[PartitionState]) -> None:
        """Drop queued, not yet started work of these partitions (reported as DROPPED)."""
        self._loop.call_soon_threadsafe(self._discard, frozenset(partitions))

    def stop(self, timeout: float) -> None:
        """Stop the loop thread and the pool; handlers still running are cancelled."""
        self._loop.call_soon_threadsafe(self._close)
        self._loop_thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- loop thread -----------------------------------------------------------------------------
    def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._loop.call_soon(self._loop.stop)  # after the cancelled tasks' last step

    def _accept(self, items: list[WorkItem]) -> None:
        ready: list[WorkItem] = []
        for item in items:
            registration = item.registration
            if registration is not None and registration.batch is not None:
                self._collector(registration).add(item)
                continue
            if self._scheduler.offer(item.key, item):
                ready.append(item)
        self._workers.start(ready)

    def _collector(self, registration: Registration) -> BatchCollector:
        collector = self._batches.get(registration)
        if collector is None:
            collector = BatchCollector(
                registration, self._loop, self._spawn, self._run_batch, self._waiting
            )
            self._batches[registration] = collector
        return collector

    def _discard(self, partitions: frozenset[PartitionState]) -> None:
        dropped = self._scheduler.discard(lambda item: item.partition in partitions)
        for collector in self._batches.values():
            dropped.extend(collector.discard(partitions))
        for item in dropped:
            self._report(item, Status.DROPPED)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        # the loop keeps only weak references to tasks; ours drop themselves when they end
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _report(self, item: WorkItem, status: Status) -> None:
        if not self._finished:
            self._loop.call_soon(self._flush)
        self._finished.append((item.partition, item.offset, status))

    def _flush(self) -> None:
        """Once per loop turn: hand the finished items over, and count the processed ones."""
        finished, self._finished = self._finished, []
        self._completions.put(finished)
        for meters, count in self._processed.items():
            meters.processed.inc(count)
        self._processed.clear()

    async def _run_one(self, item: WorkItem) -> None:
        """A worker's turn with one scheduled item."""
        status = Status.DROPPED
        reported_later = False
        try:
            diverted = (
                self._extension.divert(item) if self._guarded and item.partition.active else None
            )
            if diverted is not None:
                # Its record is produced already, in key order: the key's next event need not
                # wait for the broker's confirmation (nor this worker), only this offset does.
                self._spawn(self._report_diverted(item, diverted))
                reported_later = True
                return
            status = await self._settle([item], worker=True)
        finally:
            if not reported_later:
                self._report(item, status)
            next_of_key = self._scheduler.finish(item.key)
            if next_of_key:
                self._workers.start(next_of_key)

    async def _report_diverted(self, item: WorkItem, diverted: Forwarded) -> None:
        status = Status.DROPPED
        try:
            status = await self._confirm_diverted(item, diverted)
        finally:
            self._report(item, status)

    async def _run_batch(self, items: list[WorkItem]) -> None:
        status = Status.DROPPED
        try:
            status = await self._settle(items)
        finally:
            for item in items:
                self._report(item, status)

    async def _settle(
        self, items: list[WorkItem], attempt: int = 1, *, worker: bool = False
    ) -> Status:
        """Attempt one event (or one batch) until it succeeds or the failure seam settles it.
        `worker`: a worker runs this one scheduled event (its backoffs may step aside)."""
        while True:
            live = _active(items)
            if not live:
                return Status.DROPPED
            started = perf_counter()
            span = self._handling(live, attempt) if self._traced else None
            try:
                await (
                    self._guarded_attempt(live, attempt, span)
                    if self._guarded
                    else self._call(live, attempt, span)
                )
            except Exception as error:  # the failure seam decides; nothing is swallowed here
                settled = await self._on_failure(live, attempt, error, worker=worker, span=span)
                if settled is not None:
                    return settled
                attempt += 1
                continue
            except BaseException:  # cancelled as the service stops: the span ends all the same
                if span is not None:
                    span.end()
                raise
            if span is not None:
                span.end()
            self._record_success(live, attempt, perf_counter() - started)
            return Status.DONE

    def _handling(self, items: list[WorkItem], attempt: int) -> Handling:
        """The attempt's span (tracing on): current until it ends, a child of the event's
        `traceparent`."""
        metas = [item.meta for item in items]
        return self._tracing.handling(self._service, items[0].type_name, metas, attempt)

    async def _on_failure(
        self,
        live: list[WorkItem],
        attempt: int,
        error: Exception,
        *,
        worker: bool = False,
        span: Handling | None = None,
    ) -> Status | None:
        """Ask the failure seam about a failed attempt: the final status, or None to try again
        (after the delay it asked for). The attempt's span, if any, is current while the seam
        forwards the event (its writes are the span's children) and ends before any wait."""
        failure = replace(self._failure(live[0], attempt, error), batch_size=len(live))
        outcome = self._failures.on_failure(failure)
        if span is not None:
            span.failed(error, _outcome_name(outcome))
            span.end()
        self._meters(live[0]).failed.inc()
        if isinstance(outcome, Fatal):
            return self._declare_fatal(live[0], outcome, error)
        if isinstance(outcome, Forwarded) and await self._delivered(outcome):
            return Status.DONE
        if isinstance(outcome, RetryAfter):
            await (
                self._back_off(live[0].key, outcome.delay)
                if worker
                else self._back_off_unscheduled(len(live), outcome.delay)
            )
        return None

    async def _back_off(self, key: Hashable, delay: float) -> None:
        """A worker's event waits out its backoff without its worker or concurrency slot: its
        key stays busy, but keys backing off never starve the others."""
        self._workers.step_aside()
        self._workers.start(self._scheduler.step_aside(key))
        try:
            await asyncio.sleep(delay)
        finally:
            self._scheduler.step_back(key)
            self._workers.step_back()

    async def _back_off_unscheduled(self, events: int, delay: float) -> None:
        """A batch (or an unscheduled event) waits out its backoff, counted as waiting."""
        self._waiting.count += events
        try:
            await asyncio.sleep(delay)
        finally:
            self._waiting.count -= events

    async def _confirm_diverted(self, item: WorkItem, diverted: Forwarded) -> Status:
        """Wait for a diverted event's forward; a failed one is forwarded again (never lost)."""
        while not await self._delivered(diverted):
            await asyncio.sleep(1.0)
            if not item.partition.active:
                return Status.DROPPED
            again = self._extension.divert(item)
            if again is None:
                # Released while its forward failed: it was never handled, so handle it now
                # (rare: a failed forward and an operator's release at once).
                return await self._settle([item])
            diverted = again
        return Status.DONE

    def _guarded_attempt(
        self, items: list[WorkItem], attempt: int, span: Handling | None
    ) -> Awaitable[None]:
        """One attempt when there is an extension: it guards single events (e.g. with
        idempotency marks)."""
        registration = items[0].registration
        single = len(items) == 1 and registration is not None and registration.batch is None
        if not single:
            return self._call(items, attempt, span)
        return self._extension.guard(items[0], lambda: self._call(items, attempt, span))

    def _call(self, items: list[WorkItem], attempt: int, span: Handling | None) -> Awaitable[None]:
        """The handler's awaitable: its coroutine, or its run on the thread pool if sync."""
        first = items[0]
        publisher = self._publisher if self._publisher_for is None else self._publisher_for(first)
        registration = first.registration
        if registration is None or first.event is None:
            raise first.error or ValueError("no event to handle")
        handled: object
        context: object
        if registration.batch is not None:
            handled = [item.event for item in items]
            context = BatchContext(self._service, items, publisher)
        else:
            meta = first if attempt == 1 else replace(first.meta, attempt=attempt)
            handled, context = first.event, Context(self._service, meta, publisher)
        if registration.is_async:
            result: Awaitable[None] = registration.function(handled, context)
            return result
        if span is not None:  # the span is current on the pool thread too
            return self._threads.run(span.run_sync, registration.function, handled, context)
        return self._threads.run(registration.function, handled, context)

    async def _delivered(self, outcome: Forwarded) -> bool:
        delivery = outcome.delivery
        try:
            if isinstance(delivery, concurrent.futures.Future):
                await asyncio.wrap_future(delivery)
            else:
                await delivery
        except Exception as error:
            self._log.warning(EVENT_FAILED, service=self._service, forwarding_failed=repr(error))
            return False
        return True

    def _failure(self, item: WorkItem, attempt: int, error: BaseException) -> Failure:
        meta = replace(item.meta, attempt=attempt)
        return Failure(
            self._service, meta, item.raw_value, item.event, error, item.policy, item.raw_key
        )

    def _declare_fatal(self, item: WorkItem, outcome: Fatal, error: BaseException) -> Status:
        self._log.error(
            EVENT_FATAL, service=self._service, reason=outcome.reason, **item.meta.log_fields()
        )
        if self.fatal is None:
            self.fatal = error
        return Status.FATAL

    def _record_success(self, items: list[WorkItem], attempt: int, seconds: float) -> None:
        meters = self._meters(items[0])
        processed = self._processed
        processed[meters] = processed.get(meters, 0) + len(items)
        meters.duration.observe(seconds)
        if self._guarded:
            self._extension.succeeded(items)
        if self._log_each:
            fields = items[0].meta.log_fields() | {"attempt": attempt, "batch_size": len(items)}
            self._log.debug(EVENT_PROCESSED, service=self._service, **fields)

    def _meters(self, item: WorkItem) -> EventMeters:
        meters = self._meters_of.get(item.registration)
        if meters is None:
            meters = self._meters_of[item.registration] = self._metrics.for_event_type(
                item.type_name
            )
        return meters


def _outcome_name(outcome: object) -> str:
    """What a failed attempt's span says became of the event."""
    if isinstance(outcome, RetryAfter):
        return "retry_in_place"
    if isinstance(outcome, Forwarded):
        return "forwarded"
    return "fatal"


def _active(items: list[WorkItem]) -> list[WorkItem]:
    """The items whose partition is still owned: as a rule, all of them."""
    for item in items:
        if not item.partition.active:
            return [item for item in items if item.partition.active]
    return items
