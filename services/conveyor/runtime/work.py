"""The units passed between the poll thread and the dispatcher."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

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
    rank: int = 0  # its topic's priority lane, 0 the highest (or a topic without lanes)
    # (offset, timestamp ms) of the first event of each run of this partition's events in a
    # fetched batch, oldest first: what `conveyor.runtime.lag` ages the oldest unfinished event by
    runs: deque[tuple[int, int]] = field(default_factory=deque)


class WorkItem:
    """One fetched message on its way to a handler (or to the failure seam, if undecodable).

    Its metadata is built from the fetched message on first use (`meta`): a handler that never
    looks at it costs no metadata object, no event-id string, no key decoding.
    """

    __slots__ = (
        "_message",
        "_meta",
        "error",
        "event",
        "key",
        "offset",
        "partition",
        "raw_value",
        "registration",
    )

    def __init__(  # noqa: PLR0917 - one per event: keywords would cost a fifth of a microsecond
        self,
        partition: PartitionState,
        offset: int,
        key: Hashable,
        event: Event | None,
        raw_value: bytes | None,
        registration: Registration | None,
        message: Any = None,
        meta: EventMeta | None = None,
        error: BaseException | None = None,
    ) -> None:
        """The fetched confluent-kafka `message` to build the metadata from when first asked
        for, or the metadata itself. Positional in the consumer's hot path: one per event."""
        if meta is None and message is None:
            raise ValueError("a work item needs its metadata or the message it came in")
        self.partition = partition
        self.offset = offset
        self.key = key
        self.event = event
        self.raw_value = raw_value
        self.registration = registration
        self._message = message
        self._meta = meta
        self.error = error

    @property
    def meta(self) -> EventMeta:
        meta = self._meta
        if meta is None:
            event_id = str(self.event.event_id) if self.event is not None else None
            meta = self._meta = EventMeta.of_message(self._message, event_id)
        return meta

    @meta.setter
    def meta(self, meta: EventMeta) -> None:
        self._meta = meta

    @property
    def raw_key(self) -> bytes | None:
        """The message key as fetched (None for a message without one)."""
        return self.key if isinstance(self.key, bytes) else None

    @property
    def policy(self) -> HandlerPolicy:
        return self.registration.policy if self.registration else HandlerPolicy()

    @property
    def type_name(self) -> str:
        return self.registration.event_type.AVRO_NAME if self.registration else "undecodable"


Completion = tuple[PartitionState, int, Status]


class Waiting:
    """How many events out with the dispatcher wait for time or for more events, not for a
    handler: a batch handler's partial batch, a batch backing off (the key scheduler counts a
    key backing off in place itself). Written on the dispatcher's loop thread; the poll thread
    reads `count`."""

    def __init__(self) -> None:
        self.count = 0
