"""What a handler sees besides its event: metadata, a bound logger, and a way to publish."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from conveyor.events.base import Event
from conveyor.runtime.errors import PublisherMissingError

Headers = Sequence[tuple[str, bytes]]


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


class Publisher(Protocol):
    """Anything that can publish a follow-up event (conveyor's publisher fits)."""

    def publish(self, event: Event) -> object: ...


class _NoPublisher:
    def publish(self, event: Event) -> object:
        raise PublisherMissingError(
            "this service was started without a publisher; pass one to run_service(...)"
        )


NO_PUBLISHER: Publisher = _NoPublisher()


class Context:
    """Handed to a handler with its event. The logger is bound lazily, on first use."""

    __slots__ = ("_log", "_publisher", "meta", "service")

    def __init__(self, service: str, meta: EventMeta, publisher: Publisher) -> None:
        self.service = service
        self.meta = meta
        self._publisher = publisher
        self._log: Any = None

    @property
    def attempt(self) -> int:
        return self.meta.attempt

    @property
    def log(self) -> Any:
        """A structlog logger bound to service, topic, partition, offset and event id."""
        if self._log is None:
            self._log = structlog.get_logger("conveyor.handler").bind(
                service=self.service, **self.meta.log_fields()
            )
        return self._log

    def publish(self, event: Event) -> object:
        """Publish a follow-up event through the service's publisher."""
        return self._publisher.publish(event)


class BatchContext:
    """Handed to a batch handler with its list of events; `metas[i]` belongs to `events[i]`."""

    __slots__ = ("_publisher", "log", "metas", "service")

    def __init__(self, service: str, metas: list[EventMeta], publisher: Publisher) -> None:
        self.service = service
        self.metas = metas
        self._publisher = publisher
        self.log: Any = structlog.get_logger("conveyor.handler").bind(
            service=service, batch_size=len(metas)
        )

    def publish(self, event: Event) -> object:
        return self._publisher.publish(event)
