"""`Idempotency`: a handler's idempotency option, a value its `HandlerPolicy` carries.

`HandlerPolicy(idempotency=Idempotency(store))`; `conveyor.policies` runs the handler through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from conveyor.idempotency.base import ProcessedEventStore


@dataclass(frozen=True)
class Idempotency:
    """A handler's processed-event store; done marks older than `keep_for` seconds expire
    (keep them longer than any redelivery or replay you expect)."""

    store: ProcessedEventStore
    keep_for: float = 7 * 24 * 3600.0
