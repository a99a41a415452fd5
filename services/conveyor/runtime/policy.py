"""Per-handler policies: values given at registration, read by the runtime and its failure seam.

The runtime itself reads only `ordering`; retry, rate limit and idempotency are values that the
policies plugged in through the extension seam (`conveyor.policies`) act on.
"""

from __future__ import annotations

from dataclasses import dataclass

from conveyor.idempotency.policy import Idempotency
from conveyor.ordering import Ordering
from conveyor.ratelimit import RateLimit
from conveyor.retry.policy import RetryPolicy


@dataclass(frozen=True)
class HandlerPolicy:
    """Everything a registration says about how its handler runs."""

    ordering: Ordering = Ordering.ORDERED
    retry: RetryPolicy | None = None  # None: the service's default retry policy
    rate_limit: RateLimit | None = None
    idempotency: Idempotency | None = None


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
