"""An in-memory double for unit-testing a service's handlers: no Kafka, no threads.

    harness = ServiceHarness(service)
    harness.feed(UserSignedUp(user_id="u1", ...))
    assert harness.published == [...]
    assert harness.published_lanes == [None]  # the lane each was published with (None: not named)

Handlers run inline, in the order fed; a handler's exception propagates to the test. Only for
users' unit tests: the runtime's own integration tests run against a real broker.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from datetime import UTC, datetime

from conveyor import naming
from conveyor.events.base import Event
from conveyor.runtime.context import BatchContext, Context, EventMeta
from conveyor.runtime.service import Service


class RecordingPublisher:
    """Keeps what handlers publish, in order, and the lane each named (None: none)."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.lanes: list[str | None] = []

    def publish(self, event: Event, *, lane: str | None = None) -> None:
        self.published.append(event)
        self.lanes.append(lane)


class ServiceHarness:
    """Feeds events straight to a service's handlers."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._publisher = RecordingPublisher()
        self._offsets: dict[tuple[str, int], int] = {}

    @property
    def published(self) -> list[Event]:
        return self._publisher.published

    @property
    def published_lanes(self) -> list[str | None]:
        """The lane each of `published` was published with (`ctx.publish(event, lane=...)`);
        None where the handler named none, so the event's lane field, the handled event's lane
        or the topic's default decides in a real run."""
        return self._publisher.lanes

    def feed(self, event: Event, *, partition: int = 0, attempt: int = 1) -> bool:
        """Run the handler for `event`; False when the service has no handler for its type."""
        registration = self._service.registration_for(type(event))
        if registration is None:
            return False
        meta = self._meta(event, partition, attempt)
        if registration.batch is not None:
            context = BatchContext(self._service.name, [meta], self._publisher)
            _call(registration.function, [event], context)
        else:
            _call(registration.function, event, Context(self._service.name, meta, self._publisher))
        return True

    def feed_batch(self, events: Iterable[Event], *, partition: int = 0) -> None:
        """Hand `events` (all of one type) to that type's batch handler as one list."""
        batch = list(events)
        if not batch:
            return
        registration = self._service.registration_for(type(batch[0]))
        if registration is None or registration.batch is None:
            raise ValueError(f"{self._service.name} has no batch handler for {type(batch[0])}")
        metas = [self._meta(event, partition, 1) for event in batch]
        _call(
            registration.function, batch, BatchContext(self._service.name, metas, self._publisher)
        )

    def _meta(self, event: Event, partition: int, attempt: int) -> EventMeta:
        position = (event.TOPIC, partition)
        offset = self._offsets.get(position, 0)
        self._offsets[position] = offset + 1
        return EventMeta(
            topic=event.TOPIC,
            partition=partition,
            offset=offset,
            timestamp_ms=int(datetime.now(UTC).timestamp() * 1000),
            key=event.key,
            headers=[(naming.EVENT_TYPE, event.AVRO_NAME.encode())],
            event_id=str(event.event_id),
            attempt=attempt,
        )


def _call(function: object, *arguments: object) -> None:
    if not callable(function):
        raise TypeError(f"{function!r} is not callable")
    result = function(*arguments)
    if inspect.isawaitable(result):
        asyncio.run(_await(result))


async def _await(awaitable: object) -> None:
    if inspect.isawaitable(awaitable):
        await awaitable
