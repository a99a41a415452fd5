"""The processed-event store's contract: reserve before a side effect, confirm after it.

A mark is keyed by (service, event_id) and is `reserved` while the side effect runs, then `done`.
A reservation that is never confirmed (the process died in between) stays visible: after
`stale_after` seconds the next delivery reclaims it and is told so (`Claim.RECLAIMED`), because the
side effect may or may not have happened; `stale()` lists such reservations for an operator.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

C = TypeVar("C")

TABLE = "conveyor_processed_events"
RESERVED = "reserved"
DONE = "done"


class Claim(enum.Enum):
    """The answer to `reserve`."""

    ACQUIRED = "acquired"  # first time: run the side effect, then confirm (or release on failure)
    RECLAIMED = "reclaimed"  # a stale reservation was taken over: the side effect may have run
    DONE = "done"  # already processed: skip the side effect
    IN_FLIGHT = "in_flight"  # another worker holds a fresh reservation: try again later

    @property
    def proceed(self) -> bool:
        return self in (Claim.ACQUIRED, Claim.RECLAIMED)


@dataclass(frozen=True)
class Reservation:
    """A reservation that was never confirmed."""

    service: str
    event_id: str
    reserved_at_ms: int
    reclaims: int


def judge(state: str, reserved_at_ms: int, now_ms: int, stale_after_ms: int) -> Claim:
    """What an existing mark means for a new delivery of the same event."""
    if state == DONE:
        return Claim.DONE
    if now_ms - reserved_at_ms < stale_after_ms:
        return Claim.IN_FLIGHT
    return Claim.RECLAIMED


@dataclass
class Transaction(Generic[C]):
    """An open transaction on the store's database in which the event's mark is already written.

    Write the side effect through `connection`; both commit together when the `with` block ends,
    and both roll back when it raises. When `already_done` is true the event was processed before:
    write nothing (the transaction is rolled back).
    """

    connection: C
    already_done: bool


class ProcessedEventStore(Protocol):
    """What the runtime needs from a backend (SQLite, PostgreSQL)."""

    def reserve(self, service: str, event_id: str) -> Claim: ...

    def confirm(self, service: str, event_id: str) -> None: ...

    def release(self, service: str, event_id: str) -> None:
        """Forget a reservation whose side effect failed, so a retry can reserve again."""
        ...

    def stale(self, older_than_s: float) -> list[Reservation]: ...

    def expire(self, older_than_s: float) -> int:
        """Delete `done` marks confirmed more than `older_than_s` ago; returns how many."""
        ...

    def close(self) -> None: ...
