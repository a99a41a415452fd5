"""From a fetched Kafka message to a work item: find the registration, decode (the metadata is
built from the message later, if anything asks for it).

Messages of event types the service has no handler for are skipped (their offsets complete at
once). Undecodable messages become work items carrying the error, for the failure seam.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from conveyor import naming
from conveyor.runtime.service import Registration, Service
from conveyor.runtime.work import PartitionState, WorkItem
from conveyor.typing import Codec

_HEADER_CACHE_SIZE = 1024


class Router:
    """Turns messages into work items for one service."""

    def __init__(self, service: Service, codec: Codec) -> None:
        self._registrations = service.registrations
        self._registration_for = service.registration_for
        self._codec = codec
        self._by_header: dict[bytes, Registration | None] = {}  # `event-type` value -> handler

    def route(self, message: Any, partition: PartitionState, offset: int) -> WorkItem | None:
        """A work item, or None when the service does not handle this message's type (decided
        from the `event-type` header alone when there is one: such messages are never decoded).
        `offset` is the message's, which the poll loop has read already."""
        value: bytes | None = message.value()
        if value is None:
            return None  # a tombstone carries no event
        registration: Registration | None = None
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
                registration = self._registration_for(type(event))
                if registration is None:
                    return None
            else:
                event = self._codec.decode(value, registration.event_type)
        except Exception as error:  # any decoder failure is poison, routed to the failure seam
            return WorkItem(
                partition, offset, scheduling_key, None, value, registration, message, error=error
            )
        return WorkItem(partition, offset, scheduling_key, event, value, registration, message)

    def _for_header(self, type_name: bytes) -> Registration | None:
        try:
            return self._by_header[type_name]
        except KeyError:
            found = self._registrations.get(type_name.decode("utf-8", "replace"))
            if len(self._by_header) < _HEADER_CACHE_SIZE:  # header values come from producers
                self._by_header[type_name] = found
            return found
