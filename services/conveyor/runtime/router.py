"""From a fetched Kafka message to a work item: find the registration, decode, attach metadata.

Messages of event types the service has no handler for are skipped (their offsets complete at
once). Undecodable messages become work items carrying the error, for the failure seam.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from conveyor import naming
from conveyor.runtime.context import EventMeta
from conveyor.runtime.service import Registration, Service
from conveyor.runtime.work import PartitionState, WorkItem
from conveyor.typing import Codec

_NO_TIMESTAMP = 0  # confluent_kafka.TIMESTAMP_NOT_AVAILABLE


class Router:
    """Turns messages into work items for one service."""

    def __init__(self, service: Service, codec: Codec) -> None:
        self._registrations = service.registrations
        self._registration_for = service.registration_for
        self._codec = codec

    def route(self, message: Any, partition: PartitionState) -> WorkItem | None:
        """A work item, or None when the service does not handle this message's type."""
        headers = message.headers() or []
        value: bytes | None = message.value()
        if value is None:
            return None  # a tombstone carries no event
        type_name = _header(headers, naming.EVENT_TYPE)
        registration: Registration | None = None
        if type_name is not None:
            registration = self._registrations.get(type_name.decode("utf-8", "replace"))
            if registration is None:
                return None
        raw_key: bytes | None = message.key()
        scheduling_key: Hashable = raw_key if raw_key is not None else ("offset", message.offset())
        try:
            if registration is None:
                event = self._codec.decode(value)
                registration = self._registration_for(type(event))
                if registration is None:
                    return None
            else:
                event = self._codec.decode(value, registration.event_type)
        except Exception as error:  # any decoder failure is poison, routed to the failure seam
            meta = _meta(message, partition, raw_key, headers, None)
            return WorkItem(partition, meta, scheduling_key, None, value, registration, error)
        meta = _meta(message, partition, raw_key, headers, str(event.event_id))
        return WorkItem(partition, meta, scheduling_key, event, value, registration)


def _meta(
    message: Any,
    partition: PartitionState,
    raw_key: bytes | None,
    headers: list[tuple[str, bytes]],
    event_id: str | None,
) -> EventMeta:
    kind, millis = message.timestamp()
    return EventMeta(
        topic=partition.topic,
        partition=partition.partition,
        offset=message.offset(),
        timestamp_ms=None if kind == _NO_TIMESTAMP else millis,
        key=raw_key.decode("utf-8", "replace") if raw_key is not None else None,
        headers=headers,
        event_id=event_id,
    )


def _header(headers: list[tuple[str, bytes]], name: str) -> bytes | None:
    for header_name, value in headers:
        if header_name == name:
            return value
    return None
