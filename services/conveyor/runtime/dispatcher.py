"""Runs decoded events' handlers in key order: async ones on the event loop, sync ones on the
thread pool (`Executors`), and reports each event's completion to the poll thread.

Single events go through the key scheduler and the workers, batch handlers' events through their
batch collectors. A failed attempt is handed to `RetryAndDivert`, which says whether the event
is settled or is attempted again. Every method prefixed `_` runs on the loop thread. Finished
items go back to the poll thread on the `completions` queue, one list per turn of the loop
rather than one message per event.
"""

from __future__ import annotations

import queue
from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
from time import perf_counter

import structlog

from conveyor import logs
from conveyor.log_output import is_debug_enabled
from conveyor.runtime.batching import BatchCollector
from conveyor.runtime.context import BatchContext, Context, FollowUpPublisher
from conveyor.runtime.executors import Executors
from conveyor.runtime.extension_seam import NO_EXTENSION, RuntimeExtension
from conveyor.runtime.failure_seam import FailureHandler, Forwarded
from conveyor.runtime.key_scheduler import KeyScheduler
from conveyor.runtime.metrics import HandlerMeters, RuntimeMetrics
from conveyor.runtime.retry_and_divert import RetryAndDivert
from conveyor.runtime.service import Registration
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
        lane_ranks: int = 1,
        lane_share_every: int = 10,
    ) -> None:
        """`lane_ranks`: how many priority lanes the service's topics have at most; a waiting
        event of a higher lane (`PartitionState.rank`) takes a free handler slot first, but for
        every `lane_share_every`-th slot, which goes to a lower lane's waiting event."""
        self._service = service
        # Off, tracing costs one test per attempt: no header is read, nothing allocated.
        self._tracing = tracing if tracing.enabled else None
        # None without policies: attempts are not guarded, nothing is diverted.
        self._extension = extension if extension is not NO_EXTENSION else None
        self._publisher = publisher
        self._publisher_for = publisher_for  # per attempt (transactional follow-ups), if set
        self._completions = completions
        self._executors = Executors(sync_workers)
        self._scheduler: KeyScheduler[WorkItem] = KeyScheduler(
            max_in_flight, lane_ranks, _rank, lane_share_every
        )
        self._workers: Workers[WorkItem] = Workers(
            self._executors.loop, self._run_one, self._executors.spawn, max_in_flight
        )
        self._batches: dict[Registration, BatchCollector] = {}
        self._waiting = Waiting()  # batch collectors' events, unscheduled events backing off
        self._retry_and_divert = RetryAndDivert(
            service,
            failures,
            extension,
            scheduler=self._scheduler,
            workers=self._workers,
            waiting=self._waiting,
        )
        self._meters = HandlerMeters(metrics)
        self._finished: list[Completion] = []
        self._log = structlog.get_logger("conveyor.runtime")
        self._log_each = False
        metrics.in_flight.set_function(lambda: self._scheduler.in_flight)

    # -- called from the poll thread -------------------------------------------------------------
    def start(self) -> None:
        self._log_each = is_debug_enabled(self._log)
        self._executors.start()

    def submit(self, items: list[WorkItem]) -> None:
        self._executors.call_soon_threadsafe(self._accept, items)

    @property
    def fatal(self) -> BaseException | None:
        """The failure that stops the service, once a handler's failure turned out fatal."""
        return self._retry_and_divert.fatal

    @property
    def waiting(self) -> int:
        """Events out with the dispatcher that wait for time or for more events, not for a
        handler (see `Waiting`); read from the poll thread."""
        return self._scheduler.waiting + self._waiting.count

    def discard(self, partitions: Collection[PartitionState]) -> None:
        """Drop queued, not yet started work of these partitions (reported as DROPPED)."""
        self._executors.call_soon_threadsafe(self._discard, frozenset(partitions))

    def stop(self, timeout: float) -> None:
        """Stop the loop thread and the pool; handlers still running are cancelled."""
        self._executors.stop(timeout)

    # -- loop thread -----------------------------------------------------------------------------
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
            executors = self._executors
            collector = BatchCollector(
                registration, executors.loop, executors.spawn, self._run_batch, self._waiting
            )
            self._batches[registration] = collector
        return collector

    def _discard(self, partitions: frozenset[PartitionState]) -> None:
        dropped = self._scheduler.discard(lambda item: item.partition in partitions)
        for collector in self._batches.values():
            dropped.extend(collector.discard(partitions))
        for item in dropped:
            self._report(item, Status.DROPPED)

    def _report(self, item: WorkItem, status: Status) -> None:
        if not self._finished:
            self._executors.loop.call_soon(self._flush)
        self._finished.append((item.partition, item.offset, status))

    def _flush(self) -> None:
        """Once per loop turn: hand the finished items over, and count the processed ones."""
        finished, self._finished = self._finished, []
        self._completions.put(finished)
        self._meters.flush()

    async def _run_one(self, item: WorkItem) -> None:
        """A worker's turn with one scheduled item."""
        status = Status.DROPPED
        reported_later = False
        try:
            extension = self._extension
            diverted = (
                extension.divert(item) if extension is not None and item.partition.active else None
            )
            if diverted is not None:
                # Its record is produced already, in key order: the key's next event need not
                # wait for the broker's confirmation (nor this worker), only this offset does.
                self._executors.spawn(self._report_diverted(item, diverted))
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
            confirmed = await self._retry_and_divert.confirm_diverted(item, diverted)
            status = await self._settle([item]) if confirmed is None else confirmed
        finally:
            self._report(item, status)

    async def _run_batch(self, items: list[WorkItem]) -> None:
        status = Status.DROPPED
        try:
            status = await self._settle(items)
        finally:
            for item in items:
                self._report(item, status)

    async def _settle(self, items: list[WorkItem], *, worker: bool = False) -> Status:
        """Attempt one event (or one batch) until it succeeds or `RetryAndDivert` settles it.
        `worker`: a worker runs this one scheduled event (its backoffs may step aside)."""
        attempt = 1
        while True:
            live = _active(items)
            if not live:
                return Status.DROPPED
            started = perf_counter()
            tracing = self._tracing
            span = None if tracing is None else self._handling(tracing, live, attempt)
            try:
                await (
                    self._call(live, attempt, span)
                    if self._extension is None
                    else self._guarded_attempt(live, attempt, span)
                )
            except Exception as error:  # the failure seam decides; nothing is swallowed here
                self._meters.failed(live[0])
                settled = await self._retry_and_divert.after_failure(
                    live, attempt, error, worker=worker, span=span
                )
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
            self._succeeded(live, attempt, perf_counter() - started)
            return Status.DONE

    def _handling(self, tracing: Tracing, items: list[WorkItem], attempt: int) -> Handling:
        """The attempt's span (tracing on): current until it ends, a child of the event's
        `traceparent`."""
        metas = [item.meta for item in items]
        return tracing.handling(self._service, items[0].type_name, metas, attempt)

    def _guarded_attempt(
        self, items: list[WorkItem], attempt: int, span: Handling | None
    ) -> Awaitable[None]:
        """One attempt when there are policies: they guard single events (e.g. with
        idempotency marks)."""
        registration = items[0].registration
        single = len(items) == 1 and registration is not None and registration.batch is None
        if not single or self._extension is None:
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
            return self._executors.run_sync(span.run_sync, registration.function, handled, context)
        return self._executors.run_sync(registration.function, handled, context)

    def _succeeded(self, items: list[WorkItem], attempt: int, seconds: float) -> None:
        self._meters.succeeded(items, seconds)
        if self._extension is not None:
            self._extension.succeeded(items)
        if self._log_each:
            fields = items[0].meta.log_fields() | {"attempt": attempt, "batch_size": len(items)}
            self._log.debug(logs.EVENT_PROCESSED, service=self._service, **fields)


def _active(items: list[WorkItem]) -> list[WorkItem]:
    """The items whose partition is still owned: as a rule, all of them."""
    for item in items:
        if not item.partition.active:
            return [item for item in items if item.partition.active]
    return items


def _rank(item: WorkItem) -> int:
    return item.partition.rank
