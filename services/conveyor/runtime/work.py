"""The units passed between the poll thread and the dispatcher."""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass, field

from conveyor.events.base import Event
from conveyor.runtime.context import EventMeta
from conveyor.runtime.offsets import OffsetTracker
from conveyor.runtime.policy import HandlerPolicy
from conveyor.runtime.service import Registration


class Status(enum.Enum):
    DONE = "done"  # handled, or forwarded durably: the offset may be committed
    DROPPED = "dropped"  # abandoned because its partition went away: never committed here
    FATAL = "fatal"  # the failure seam said stop: never committed


@dataclass(eq=False)
class PartitionState:
    """One assignment of one partition. A new object per assignment, so late completions of a
    previous owner's work are recognised and ignored. Owned by the poll thread; the dispatcher
    only reads `active`."""

    topic: str
    partition: int
    tracker: OffsetTracker = field(default_factory=OffsetTracker)
    active: bool = True
    paused: bool = False
    held: bool = False  # an extension holds its next item back (see `conveyor.runtime.holds`)
    outstanding: int = 0  # dispatched, not yet reported back
    committed: int | None = None


@dataclass(eq=False, slots=True)
class WorkItem:
    """One fetched message on its way to a handler (or to the failure seam, if undecodable)."""

    partition: PartitionState
    meta: EventMeta
    key: Hashable
    event: Event | None
    raw_value: bytes | None
    registration: Registration | None
    error: BaseException | None = None

    @property
    def offset(self) -> int:
        return self.meta.offset

    @property
    def policy(self) -> HandlerPolicy:
        return self.registration.policy if self.registration else HandlerPolicy()

    @property
    def type_name(self) -> str:
        return self.registration.event_type.AVRO_NAME if self.registration else "undecodable"


Completion = tuple[PartitionState, int, Status]
