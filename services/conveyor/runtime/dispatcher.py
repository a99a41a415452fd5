"""Runs handlers: async ones on an event loop thread, sync ones on a thread pool.

Owns the key scheduler and the batch collectors; every method prefixed `_` runs on the loop
thread. Each finished item is reported back to the poll thread on the `completions` queue.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
from collections.abc import Awaitable, Collection, Coroutine
from dataclasses import replace
from typing import Any

import structlog

from conveyor.runtime.batching import BatchCollector
from conveyor.runtime.context import BatchContext, Context, Publisher
from conveyor.runtime.extension import NO_EXTENSION, RuntimeExtension
from conveyor.runtime.failures import Failure, FailureHandler, Fatal, Forwarded, RetryAfter
from conveyor.runtime.logs import EVENT_FAILED, EVENT_FATAL, EVENT_PROCESSED, is_debug_enabled
from conveyor.runtime.metrics import EventMeters, RuntimeMetrics
from conveyor.runtime.scheduler import KeyScheduler
from conveyor.runtime.service import Registration
from conveyor.runtime.work import Completion, PartitionState, Status, WorkItem


class Dispatcher:
    """Key-ordered, bounded concurrent execution of work items."""

    def __init__(
        self,
        service: str,
        *,
        max_in_flight: int,
        sync_workers: int,
        failures: FailureHandler,
        publisher: Publisher,
        metrics: RuntimeMetrics,
        completions: queue.SimpleQueue[Completion],
        extension: RuntimeExtension = NO_EXTENSION,
    ) -> None:
        self._service = service
        self._failures = failures
        self._extension = extension
        self._publisher = publisher
        self._metrics = metrics
        self._completions = completions
        self._scheduler: KeyScheduler[WorkItem] = KeyScheduler(max_in_flight)
        self._batches: dict[Registration, BatchCollector] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(sync_workers, "conveyor-handler")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="conveyor-loop")
        self._tasks: set[asyncio.Task[None]] = set()
        self._log = structlog.get_logger("conveyor.runtime")
        self._by_type: dict[str, EventMeters] = {}
        self._log_each = False
        metrics.in_flight.set_function(lambda: self._scheduler.in_flight)
        self.fatal: BaseException | None = None

    # -- called from the poll thread -------------------------------------------------------------
    def start(self) -> None:
        self._log_each = is_debug_enabled(self._log)
        self._thread.start()

    def submit(self, items: list[WorkItem]) -> None:
        self._loop.call_soon_threadsafe(self._accept, items)

    def discard(self, partitions: Collection[PartitionState]) -> None:
        """Drop queued, not yet started work of these partitions (reported as DROPPED)."""
        self._loop.call_soon_threadsafe(self._discard, frozenset(partitions))

    def stop(self, timeout: float) -> None:
        """Stop the loop thread and the pool; handlers still running are abandoned."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- loop thread -----------------------------------------------------------------------------
    def _accept(self, items: list[WorkItem]) -> None:
        for item in items:
            registration = item.registration
            if registration is not None and registration.batch is not None:
                self._collector(registration).add(item)
                continue
            for ready in self._scheduler.offer(item.key, item):
                self._start(ready)

    def _collector(self, registration: Registration) -> BatchCollector:
        collector = self._batches.get(registration)
        if collector is None:
            collector = BatchCollector(registration, self._loop, self._spawn, self._run_batch)
            self._batches[registration] = collector
        return collector

    def _discard(self, partitions: frozenset[PartitionState]) -> None:
        dropped = self._scheduler.discard(lambda item: item.partition in partitions)
        for collector in self._batches.values():
            dropped.extend(collector.discard(partitions))
        for item in dropped:
            self._completions.put((item.partition, item.offset, Status.DROPPED))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        # the loop keeps only weak references to tasks; ours drop themselves when they end
        self._tasks.add(self._loop.create_task(coroutine))

    def _forget_current_task(self) -> None:
        task = asyncio.current_task(self._loop)
        if task is not None:
            self._tasks.discard(task)

    def _start(self, item: WorkItem) -> None:
        self._spawn(self._run_one(item))

    async def _run_one(self, item: WorkItem) -> None:
        status = Status.DROPPED
        key_done = False
        try:
            diverted = self._extension.divert(item) if item.partition.active else None
            if diverted is not None:
                # Its record is produced already, in key order: the key's next event need not
                # wait for the broker's confirmation, only this offset does.
                self._finish_key(item)
                key_done = True
                status = await self._confirm_diverted(item, diverted)
            else:
                status = await self._settle([item])
        finally:
            self._forget_current_task()
            self._completions.put((item.partition, item.offset, status))
            if not key_done:
                self._finish_key(item)

    def _finish_key(self, item: WorkItem) -> None:
        for ready in self._scheduler.finish(item.key):
            self._start(ready)

    async def _run_batch(self, items: list[WorkItem]) -> None:
        status = Status.DROPPED
        try:
            status = await self._settle(items)
        finally:
            self._forget_current_task()
            for item in items:
                self._completions.put((item.partition, item.offset, status))

    async def _settle(self, items: list[WorkItem]) -> Status:
        """Attempt one event (or one batch) until it succeeds or the failure seam settles it."""
        attempt = 1
        while True:
            live = [item for item in items if item.partition.active]
            if not live:
                return Status.DROPPED
            started = time.perf_counter()
            try:
                await self._attempt(live, attempt)
            except Exception as error:  # the failure seam decides; nothing is swallowed here
                failure = replace(self._failure(live[0], attempt, error), batch_size=len(live))
                outcome = self._failures.on_failure(failure)
                self._meters(live[0]).failed.inc()
                if isinstance(outcome, Fatal):
                    return self._declare_fatal(live[0], outcome, error)
                if isinstance(outcome, Forwarded) and await self._delivered(outcome):
                    return Status.DONE
                if isinstance(outcome, RetryAfter):
                    await asyncio.sleep(outcome.delay)
                attempt += 1
                continue
            self._record_success(live, attempt, time.perf_counter() - started)
            return Status.DONE

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

    def _attempt(self, items: list[WorkItem], attempt: int) -> Awaitable[None]:
        """One attempt; the extension guards single events (e.g. with idempotency marks)."""
        registration = items[0].registration
        if len(items) > 1 or registration is None or registration.batch is not None:
            return self._call(items, attempt)
        return self._extension.guard(items[0], lambda: self._call(items, attempt))

    def _call(self, items: list[WorkItem], attempt: int) -> Awaitable[None]:
        """The handler's awaitable: its coroutine, or its run on the thread pool if sync."""
        first = items[0]
        registration = first.registration
        if registration is None or first.event is None:
            raise first.error or ValueError("no event to handle")
        if registration.batch is not None:
            metas = [item.meta for item in items]
            arguments: tuple[object, object] = (
                [item.event for item in items],
                BatchContext(self._service, metas, self._publisher),
            )
        else:
            meta = first.meta if attempt == 1 else replace(first.meta, attempt=attempt)
            arguments = (first.event, Context(self._service, meta, self._publisher))
        if registration.is_async:
            result: Awaitable[None] = registration.function(*arguments)
            return result
        return self._loop.run_in_executor(self._pool, registration.function, *arguments)

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
        raw_key = item.key if isinstance(item.key, bytes) else None
        return Failure(self._service, meta, item.raw_value, item.event, error, item.policy, raw_key)

    def _declare_fatal(self, item: WorkItem, outcome: Fatal, error: BaseException) -> Status:
        self._log.error(
            EVENT_FATAL, service=self._service, reason=outcome.reason, **item.meta.log_fields()
        )
        if self.fatal is None:
            self.fatal = error
        return Status.FATAL

    def _record_success(self, items: list[WorkItem], attempt: int, seconds: float) -> None:
        meters = self._meters(items[0])
        meters.processed.inc(len(items))
        self._extension.succeeded(items)
        meters.duration.observe(seconds)
        if self._log_each:
            fields = items[0].meta.log_fields() | {"attempt": attempt, "batch_size": len(items)}
            self._log.debug(EVENT_PROCESSED, service=self._service, **fields)

    def _meters(self, item: WorkItem) -> EventMeters:
        meters = self._by_type.get(item.type_name)
        if meters is None:
            meters = self._metrics.for_event_type(item.type_name)
            self._by_type[item.type_name] = meters
        return meters
