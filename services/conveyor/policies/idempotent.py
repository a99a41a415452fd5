"""The idempotency option of a handler: reserve before its side effect, confirm after it.

`HandlerPolicy(idempotency=Idempotency(store))`. A redelivered event whose mark is done is
skipped; a failed attempt releases its reservation so the retry may reserve again; a stale
reservation (the previous process died mid side effect) is taken over and logged, because the
side effect may have happened once already. Handlers whose side effect is a write to the store's
own database should use `store.transaction(...)` instead, which commits write and mark together.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import structlog

from conveyor import logs
from conveyor.idempotency import Claim, Idempotency
from conveyor.policies.errors import EventInFlightError
from conveyor.policies.metrics import PolicyMetrics
from conveyor.runtime.work import WorkItem

log = structlog.get_logger(__name__)


class MarkExpiry:
    """Deletes expired done marks of some stores every `interval` seconds, on its own thread."""

    def __init__(self, policies: list[Idempotency], interval: float = 3600.0) -> None:
        self._policies = policies
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="conveyor-mark-expiry", daemon=True)

    def start(self) -> None:
        if self._policies:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def expire_once(self) -> int:
        expired = 0
        for policy in self._policies:
            try:
                expired += policy.store.expire(policy.keep_for)
            except Exception as error:  # a failed sweep is retried next interval, not fatal
                log.warning(logs.MARKS_EXPIRY_FAILED, error=str(error))
        return expired

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.expire_once()


async def run_once(
    policy: Idempotency,
    service: str,
    item: WorkItem,
    invoke: Callable[[], Awaitable[None]],
    metrics: PolicyMetrics,
) -> None:
    """Run one attempt of `item`'s handler at most once per (service, event id)."""
    event_id = item.meta.event_id
    if event_id is None:  # nothing to key the mark on
        await invoke()
        return
    store = policy.store
    claim = await asyncio.to_thread(store.reserve, service, event_id)
    if claim is Claim.DONE:
        metrics.idempotent_skips.labels(service, item.type_name).inc()
        log.info(logs.EVENT_ALREADY_PROCESSED, service=service, **item.meta.log_fields())
        return
    if claim is Claim.IN_FLIGHT:
        raise EventInFlightError(f"event {event_id} is being handled elsewhere")
    if claim is Claim.RECLAIMED:
        metrics.reclaimed.labels(service, item.type_name).inc()
        log.warning(logs.IDEMPOTENCY_RECLAIMED, service=service, **item.meta.log_fields())
    try:
        await invoke()
    except BaseException:
        await asyncio.to_thread(store.release, service, event_id)
        raise
    await asyncio.to_thread(store.confirm, service, event_id)
