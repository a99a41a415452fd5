"""From a fetched Kafka message to a work item: find the registration, decode (the metadata is
built from the message later, if anything asks for it).

The event type comes from the value's own framing when the codec can tell it (`event_type_of`:
Avro single-object encoding names its writer schema in its first ten bytes), else from the
`event-type` header. The value decides: it is what gets decoded, and telling its type costs one
dictionary lookup, where turning librdkafka's headers into Python objects cost 0.7 us of CPU per
event with conveyor's three headers (the metadata still reads them when a handler asks).

Messages of event types the service has no handler for are skipped, never decoded (their
offsets complete at once). Undecodable messages become work items carrying the error, for the
failure seam.

A service whose group has replay windows (`conveyor.replay`, loaded once at start) gets the
`ReplayAwareRouter`, which marks the items inside them (`ctx.in_replay`); the others get the
plain `Router`, so the usual path costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

from conveyor import naming
from conveyor.events.base import Event
from conveyor.runtime.context import ReplayCheck
from conveyor.runtime.service import Registration, Service
from conveyor.runtime.work import PartitionState, WorkItem
from conveyor.typing import Codec, EventTypeReader

_HEADER_CACHE_SIZE = 1024


class Router:
    """Turns messages into work items for one service."""

    def __init__(self, service: Service, codec: Codec) -> None:
        self._registrations = service.registrations
        self._registration_for = service.registration_for
        self._codec = codec
        # optional in a codec: without it, every message's headers are read
        self._event_type_of: Callable[[bytes], type[Event] | None] | None = (
            codec.event_type_of if isinstance(codec, EventTypeReader) else None
        )
        self._by_header: dict[bytes, Registration | None] = {}  # `event-type` value -> handler
        self._by_type: dict[type[Event], Registration | None] = {}  # the codec's types only

    def route(self, message: Any, partition: PartitionState, offset: int) -> WorkItem | None:
        """A work item, or None when the service does not handle this message's type.
        `offset` is the message's, which the poll loop has read already."""
        value: bytes | None = message.value()
        if value is None:
            return None  # a tombstone carries no event
        registration: Registration | None = None
        event_type = self._event_type_of(value) if self._event_type_of is not None else None
        if event_type is not None:
            registration = self._for_type(event_type)
            if registration is None:
                return None
        else:
            for name, type_name in message.headers() or ():
                if name == naming.EVENT_TYPE:
                    registration = self._for_header(type_name)
                    if registration is None:
                        return None
                    break
        raw_key: bytes | None = message.key()
        scheduling_key: Hashable = raw_key if raw_key is not None else ("offset", offset)
        try:
            if registration is None:
                event = self._codec.decode(value)
                registration = self._for_type(type(event))
                if registration is None:
                    return None
            else:
                event = self._codec.decode(value, registration.event_type)
        except Exception as error:  # any decoder failure is poison, routed to the failure seam
            return WorkItem(
                partition, offset, scheduling_key, None, value, registration, message, error=error
            )
        return WorkItem(partition, offset, scheduling_key, event, value, registration, message)

    def _for_type(self, event_type: type[Event]) -> Registration | None:
        try:
            return self._by_type[event_type]
        except KeyError:
            found = self._by_type[event_type] = self._registration_for(event_type)
            return found

    def _for_header(self, type_name: bytes) -> Registration | None:
        try:
            return self._by_header[type_name]
        except KeyError:
            found = self._registrations.get(type_name.decode("utf-8", "replace"))
            if len(self._by_header) < _HEADER_CACHE_SIZE:  # header values come from producers
                self._by_header[type_name] = found
            return found


class ReplayAwareRouter(Router):
    """A `Router` that marks the work items inside a replay window."""

    def __init__(self, service: Service, codec: Codec, in_replay: ReplayCheck) -> None:
        super().__init__(service, codec)
        self._in_replay = in_replay

    def route(self, message: Any, partition: PartitionState, offset: int) -> WorkItem | None:
        item = super().route(message, partition, offset)
        if item is not None and self._in_replay(
            item.partition.topic, item.partition.partition, item.offset
        ):
            item.meta = replace(item.meta, in_replay=True)
        return item


def router_for(service: Service, codec: Codec, in_replay: ReplayCheck | None) -> Router:
    return (
        Router(service, codec)
        if in_replay is None
        else ReplayAwareRouter(service, codec, in_replay)
    )
