"""Retry and divert: what becomes of an event its handler did not settle.

After a failed attempt the dispatcher hands the failure here. `RetryAndDivert` asks the failure
seam (`conveyor.runtime.failure_seam`) and carries out the outcome it returns:

- `RetryAfter`: wait out the delay, after which the dispatcher attempts the event again. A
  worker's event waits without its worker or concurrency slot (its key stays busy, other keys
  go on); a batch's events count as waiting.
- `Forwarded` (a retry tier, the dead letters): wait for the forward's delivery; delivered, the
  event is done, and a failed delivery means the event is attempted again in place, unless the
  cluster refused it for good (`failure_seam.refusal`: a permission, credentials), which is
  fatal: no retry could succeed.
- `Fatal`: the service stops (`fatal`) without committing the event.

An event diverted before its first attempt (parked) is confirmed here too: its forward is
repeated until delivered. Everything here runs on the dispatcher's loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Hashable
from dataclasses import replace

import structlog

from conveyor import logs
from conveyor.runtime.extension_seam import RuntimeExtension
from conveyor.runtime.failure_seam import (
    Failure,
    FailureHandler,
    Fatal,
    Forwarded,
    RetryAfter,
    refusal,
)
from conveyor.runtime.key_scheduler import KeyScheduler
from conveyor.runtime.work import Status, Waiting, WorkItem
from conveyor.runtime.workers import Workers
from conveyor.tracing.seam import Handling


class RetryAndDivert:
    """Carries out the failure seam's outcomes and confirms diverted events, for one service."""

    def __init__(
        self,
        service: str,
        failures: FailureHandler,
        extension: RuntimeExtension,
        *,
        scheduler: KeyScheduler[WorkItem],
        workers: Workers[WorkItem],
        waiting: Waiting,
    ) -> None:
        self._service = service
        self._failures = failures
        self._extension = extension
        self._scheduler = scheduler
        self._workers = workers
        self._waiting = waiting
        self._log = structlog.get_logger("conveyor.runtime")
        self.fatal: BaseException | None = None  # the first fatal failure: the service stops

    async def after_failure(
        self,
        live: list[WorkItem],
        attempt: int,
        error: Exception,
        *,
        worker: bool = False,
        span: Handling | None = None,
    ) -> Status | None:
        """Ask the failure seam about a failed attempt: the final status, or None to try again
        (after the delay it asked for). `worker`: a worker runs this one scheduled event (its
        backoff may step aside). The attempt's span, if any, is current while the seam forwards
        the event (its writes are the span's children) and ends before any wait."""
        outcome = self._failures.on_failure(self._failure(live, attempt, error))
        if span is not None:
            span.failed(error, _outcome_name(outcome))
            span.end()
        if isinstance(outcome, Fatal):
            return self._declare_fatal(live[0], outcome, error)
        if isinstance(outcome, Forwarded):
            settled = await self._delivered(live[0], outcome)
            if settled is not None:
                return settled
        if isinstance(outcome, RetryAfter):
            await (
                self._back_off(live[0].key, outcome.delay)
                if worker
                else self._back_off_unscheduled(len(live), outcome.delay)
            )
        return None

    async def confirm_diverted(self, item: WorkItem, diverted: Forwarded) -> Status | None:
        """Wait for a diverted event's forward; a failed one is forwarded again (never lost).
        None: the event was released while its forward failed, so it was never handled, and
        the caller handles it now (rare: a failed forward and an operator's release at once)."""
        while (settled := await self._delivered(item, diverted)) is None:
            await asyncio.sleep(1.0)
            if not item.partition.active:
                return Status.DROPPED
            again = self._extension.divert(item)
            if again is None:
                return None
            diverted = again
        return settled

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

    async def _delivered(self, item: WorkItem, outcome: Forwarded) -> Status | None:
        """DONE once confirmed, FATAL if refused for good, None to forward it again."""
        delivery = outcome.delivery
        try:
            if isinstance(delivery, concurrent.futures.Future):
                await asyncio.wrap_future(delivery)
            else:
                await delivery
        except Exception as error:
            self._log.warning(
                logs.EVENT_FORWARD_FAILED, service=self._service, forwarding_failed=repr(error)
            )
            fatal = refusal(error)
            return None if fatal is None else self._declare_fatal(item, fatal, error)
        return Status.DONE

    def _failure(self, live: list[WorkItem], attempt: int, error: BaseException) -> Failure:
        """The seam's view of the attempt: a batch's failure stands for its events, told by
        the first."""
        item = live[0]
        meta = replace(item.meta, attempt=attempt)
        return Failure(
            self._service,
            meta,
            item.raw_value,
            item.event,
            error,
            item.policy,
            item.raw_key,
            batch_size=len(live),
        )

    def _declare_fatal(self, item: WorkItem, outcome: Fatal, error: BaseException) -> Status:
        self._log.error(
            logs.EVENT_FATAL, service=self._service, reason=outcome.reason, **item.meta.log_fields()
        )
        if self.fatal is None:
            self.fatal = error
        return Status.FATAL


def _outcome_name(outcome: object) -> str:
    """What a failed attempt's span says became of the event."""
    if isinstance(outcome, RetryAfter):
        return "retry_in_place"
    if isinstance(outcome, Forwarded):
        return "forwarded"
    return "fatal"
