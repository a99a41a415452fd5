"""Per-handler policies: values given at registration, read by the runtime and its failure seam.

Part 1 of the runtime reads only `ordering`; the other fields are slots the retry, idempotency and
rate-limit policies fill in. They are typed as `object | None` so that those modules can bring
their own value types without this module importing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from conveyor.ordering import Ordering


@dataclass(frozen=True)
class HandlerPolicy:
    """Everything a registration says about how its handler runs."""

    ordering: Ordering = Ordering.ORDERED
    retry: object | None = None
    rate_limit: object | None = None
    idempotency: object | None = None


@dataclass(frozen=True)
class BatchPolicy:
    """A batch handler receives up to `max_size` events, or fewer once `max_wait` seconds pass."""

    max_size: int = 500
    max_wait: float = 1.0

    def __post_init__(self) -> None:
        if self.max_size < 1:
            raise ValueError("a batch holds at least one event")
        if self.max_wait <= 0:
            raise ValueError("a batch's max_wait is a positive number of seconds")
