"""A service: a name (also its consumer group) and the handlers it registers per event type.

service = Service("welcome-email")

@service.handler(UserSignedUp, policy=HandlerPolicy(ordering=Ordering.UNORDERED))
def send_welcome(event: UserSignedUp, ctx: Context) -> None: ...

@service.batch_handler(OrderPlaced, BatchPolicy(max_size=500, max_wait=1.0))
async def load(events: list[OrderPlaced], ctx: BatchContext) -> None: ...
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from conveyor.events.base import Event
from conveyor.runtime.context import BatchContext, Context
from conveyor.runtime.errors import DuplicateHandlerError, RuntimeConfigError
from conveyor.runtime.policy import BatchPolicy, HandlerPolicy

E = TypeVar("E", bound=Event)

Handler = Callable[[E, Context], Awaitable[None] | None]
BatchHandler = Callable[[list[E], BatchContext], Awaitable[None] | None]
AnyHandler = Callable[..., Any]


@dataclass(frozen=True, eq=False)
class Registration:
    """One handler and its policy, for one event type. `batch` is set for batch handlers.
    Equal only to itself: it keys the runtime's per-handler state, looked up per event."""

    event_type: type[Event]
    function: AnyHandler
    policy: HandlerPolicy
    is_async: bool
    batch: BatchPolicy | None = None

    @property
    def name(self) -> str:
        return str(getattr(self.function, "__qualname__", repr(self.function)))


class Service:
    """The handlers of one consumer-group service, keyed by event type."""

    def __init__(self, name: str, *, transactional: bool = False) -> None:
        """`transactional`: consume and publish exactly once (see `conveyor.runtime.transactions`):
        follow-ups from `ctx.publish` go out in one Kafka transaction with the offsets."""
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise RuntimeConfigError(f"service names are letters, digits and dashes: {name!r}")
        self.name = name
        self.transactional = transactional
        self._by_avro_name: dict[str, Registration] = {}

    def handler(
        self, event_type: type[E], *, policy: HandlerPolicy | None = None
    ) -> Callable[[Handler[E]], Handler[E]]:
        """Register `fn(event, ctx)` (sync or async) for `event_type`."""

        def register(function: Handler[E]) -> Handler[E]:
            self._add(
                Registration(event_type, function, policy or HandlerPolicy(), _is_async(function))
            )
            return function

        return register

    def batch_handler(
        self,
        event_type: type[E],
        batch: BatchPolicy | None = None,
        *,
        policy: HandlerPolicy | None = None,
    ) -> Callable[[BatchHandler[E]], BatchHandler[E]]:
        """Register `fn(events, ctx)` for `event_type`, called with lists of events."""

        def register(function: BatchHandler[E]) -> BatchHandler[E]:
            registration = Registration(
                event_type,
                function,
                policy or HandlerPolicy(),
                _is_async(function),
                batch or BatchPolicy(),
            )
            self._add(registration)
            return function

        return register

    def _add(self, registration: Registration) -> None:
        avro_name = registration.event_type.AVRO_NAME
        if avro_name in self._by_avro_name:
            raise DuplicateHandlerError(f"{self.name} already handles {avro_name}")
        self._by_avro_name[avro_name] = registration

    @property
    def registrations(self) -> Mapping[str, Registration]:
        """Registrations keyed by the event type's Avro full name (the `event-type` header)."""
        return self._by_avro_name

    def registration_for(self, event_type: type[Event]) -> Registration | None:
        return self._by_avro_name.get(event_type.AVRO_NAME)

    def topics(self, topic_map: Mapping[str, str] | None = None) -> list[str]:
        """The topics this service subscribes to, renamed through `topic_map` when given."""
        names = {r.event_type.TOPIC for r in self._by_avro_name.values()}
        mapping = topic_map or {}
        return sorted({mapping.get(name, name) for name in names})


def _is_async(function: AnyHandler) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )
