"""The processed-event store: side effects effectively once across redeliveries.

`open_store("sqlite:///path/to/file.db")` (the default backend) or
`open_store("postgresql://user@host/db")` for production.
"""

from __future__ import annotations

from conveyor.idempotency.base import Claim, ProcessedEventStore, Reservation, Transaction
from conveyor.idempotency.errors import IdempotencyError, UnknownStoreError
from conveyor.idempotency.policy import Idempotency
from conveyor.idempotency.sqlite import SqliteStore


def open_store(url: str, *, stale_after: float = 300.0) -> ProcessedEventStore:
    """A store from its URL: `sqlite:///<path>` or `postgresql://...` (`postgres://` too)."""
    if url.startswith("sqlite:///"):
        return SqliteStore(url.removeprefix("sqlite:///"), stale_after=stale_after)
    if url.startswith(("postgresql://", "postgres://")):
        from conveyor.idempotency.postgres import PostgresStore

        return PostgresStore(url, stale_after=stale_after)
    raise UnknownStoreError(
        f"no idempotency store for {url.split(':', 1)[0]!r}: use sqlite:///<path> or postgresql://..."
    )


__all__ = [
    "Claim",
    "Idempotency",
    "IdempotencyError",
    "ProcessedEventStore",
    "Reservation",
    "SqliteStore",
    "Transaction",
    "UnknownStoreError",
    "open_store",
]
