"""The seam through which retry, dead-letter, parking, rate-limit and idempotency policies plug
into the runtime, beside the failure seam (`conveyor.runtime.failure_seam`).

`run_service(..., extension=...)` calls these hooks; `NO_EXTENSION` adds nothing to the runtime.
Hooks named `admit` and `on_*` run on the poll thread; `divert`, `guard` and `succeeded` run on
the dispatcher's event-loop thread and must not block it (use `asyncio.to_thread`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from conveyor.runtime.failure_seam import FailureHandler, Forwarded
from conveyor.runtime.health import Health
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.service import Service
from conveyor.runtime.work import PartitionState, WorkItem


class RuntimeExtension(Protocol):
    """Policies around the handlers of one service."""

    @property
    def failures(self) -> FailureHandler | None:
        """The failure handler to use instead of the runtime's default, if any."""
        ...

    def start(self, service: Service, metrics: RuntimeMetrics, health: Health) -> list[str]:
        """Called once before subscribing; returns extra topics to consume (e.g. retry tiers)."""
        ...

    def admit(self, item: WorkItem, now: float) -> float:
        """Seconds the item must wait before it may be dispatched (0.0: now). While an item
        waits, its partition is paused and the partition's later items wait behind it."""
        ...

    def on_assigned(self, partitions: list[PartitionState]) -> None: ...

    def on_revoked(self, partitions: list[PartitionState]) -> None: ...

    def divert(self, item: WorkItem) -> Forwarded | None:
        """Before an item's first attempt: forward it elsewhere instead of handling it. The
        record must be produced before this returns: the key's next item starts at once, and
        only this item's offset waits for the forward's confirmation."""
        ...

    def guard(self, item: WorkItem, invoke: Callable[[], Awaitable[None]]) -> Awaitable[None]:
        """Wraps one attempt of a single-event handler (batches are not guarded)."""
        ...

    def succeeded(self, items: list[WorkItem]) -> None: ...

    def close(self) -> None: ...


class NoExtension:
    """No policies: every item is admitted, handled, and failures go to the default handler."""

    failures: FailureHandler | None = None

    def start(self, service: Service, metrics: RuntimeMetrics, health: Health) -> list[str]:
        return []

    def admit(self, item: WorkItem, now: float) -> float:
        return 0.0

    def on_assigned(self, partitions: list[PartitionState]) -> None:
        return

    def on_revoked(self, partitions: list[PartitionState]) -> None:
        return

    def divert(self, item: WorkItem) -> Forwarded | None:
        return None

    def guard(self, item: WorkItem, invoke: Callable[[], Awaitable[None]]) -> Awaitable[None]:
        return invoke()

    def succeeded(self, items: list[WorkItem]) -> None:
        return

    def close(self) -> None:
        return


NO_EXTENSION: RuntimeExtension = NoExtension()
