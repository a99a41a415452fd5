"""What a handler sees besides its event: metadata, a bound logger, and a way to publish."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from conveyor.events.base import Event
from conveyor.runtime.errors import PublisherMissingError

Headers = Sequence[tuple[str, bytes]]
_NO_TIMESTAMP = 0  # confluent_kafka.TIMESTAMP_NOT_AVAILABLE
ReplayCheck = Callable[[str, int, int], bool]  # (topic, partition, offset) -> in a replay window


@dataclass(frozen=True)
class EventMeta:
    """Where an event came from and how many times it has been attempted (1 = first)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None  # the message timestamp, epoch milliseconds
    key: str | None
    headers: Headers
    event_id: str | None = None
    attempt: int = 1
    in_replay: bool = False  # inside a window `conveyor replay` recorded (handled before)

    @classmethod
    def of_message(cls, message: Any, event_id: str | None) -> EventMeta:
        """The metadata of a message fetched by confluent-kafka's consumer."""
        kind, millis = message.timestamp()
        raw_key: bytes | None = message.key()
        return cls(
            message.topic(),
            message.partition(),
            message.offset(),
            None if kind == _NO_TIMESTAMP else millis,
            raw_key.decode("utf-8", "replace") if raw_key is not None else None,
            message.headers() or [],
            event_id,
        )

    @property
    def timestamp(self) -> datetime | None:
        if self.timestamp_ms is None:
            return None
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def header(self, name: str) -> bytes | None:
        for header_name, value in self.headers:
            if header_name == name:
                return value
        return None

    def log_fields(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "event_id": self.event_id,
            "attempt": self.attempt,
        }


class FollowUpPublisher(Protocol):
    """Anything that can publish a follow-up event (conveyor's publisher fits); `lane` is passed
    only when one is chosen."""

    def publish(self, event: Event, *, lane: str | None = None) -> object: ...


class _NoPublisher:
    def publish(self, event: Event, *, lane: str | None = None) -> object:
        raise PublisherMissingError(
            "this service was started without a publisher; pass one to run_service(...)"
        )


NO_PUBLISHER: FollowUpPublisher = _NoPublisher()


class HasMeta(Protocol):
    """Something that builds an event's metadata when asked (a fetched work item)."""

    @property
    def meta(self) -> EventMeta: ...


def _meta_of(source: EventMeta | HasMeta) -> EventMeta:
    """The metadata itself, or the metadata a work item builds when asked."""
    return source if isinstance(source, EventMeta) else source.meta


class Context:
    """Handed to a handler with its event. The metadata and the logger are built lazily, on
    first use: most handlers never look at either."""

    __slots__ = ("_log", "_meta", "_publisher", "service")

    def __init__(
        self, service: str, meta: EventMeta | HasMeta, publisher: FollowUpPublisher
    ) -> None:
        self.service = service
        self._meta = meta
        self._publisher = publisher
        self._log: Any = None

    @property
    def meta(self) -> EventMeta:
        meta = self._meta = _meta_of(self._meta)
        return meta

    @property
    def attempt(self) -> int:
        return self.meta.attempt

    @property
    def in_replay(self) -> bool:
        """Whether this event was handled before and runs again because an operator replayed
        the service (`conveyor replay`): a handler may skip side effects it must not repeat."""
        return self.meta.in_replay

    @property
    def log(self) -> Any:
        """A structlog logger bound to service, topic, partition, offset and event id."""
        if self._log is None:
            self._log = structlog.get_logger("conveyor.handler").bind(
                service=self.service, **self.meta.log_fields()
            )
        return self._log

    def publish(self, event: Event, *, lane: str | None = None) -> object:
        """Publish a follow-up event through the service's publisher. Its lane, on a topic with
        lanes: `lane`, else the one its lane field names, else the lane of the event being
        handled (when the topic has it), else the default lane."""
        return _publish(self._publisher, event, lane)


class BatchContext:
    """Handed to a batch handler with its list of events; `metas[i]` belongs to `events[i]`.
    Like `Context`, it builds the metadata and the logger when first asked for them."""

    __slots__ = ("_log", "_metas", "_publisher", "_sources", "service")

    def __init__(
        self, service: str, metas: Sequence[EventMeta | HasMeta], publisher: FollowUpPublisher
    ) -> None:
        self.service = service
        self._sources = metas
        self._metas: list[EventMeta] | None = None
        self._publisher = publisher
        self._log: Any = None

    @property
    def metas(self) -> list[EventMeta]:
        metas = self._metas
        if metas is None:
            metas = self._metas = [_meta_of(source) for source in self._sources]
        return metas

    @property
    def log(self) -> Any:
        """A structlog logger bound to the service and the batch size."""
        if self._log is None:
            self._log = structlog.get_logger("conveyor.handler").bind(
                service=self.service, batch_size=len(self._sources)
            )
        return self._log

    def publish(self, event: Event, *, lane: str | None = None) -> object:
        """As `Context.publish`; a follow-up inherits the lane of the batch's first event."""
        return _publish(self._publisher, event, lane)


def _publish(publisher: FollowUpPublisher, event: Event, lane: str | None) -> object:
    """`lane` passed only when given, so a publisher with a plain `publish(event)` still serves
    the handlers that never name a lane."""
    return publisher.publish(event) if lane is None else publisher.publish(event, lane=lane)
