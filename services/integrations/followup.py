"""Follow-up events (payments' `OrderPaid`, fulfillment's `OrderShipped`): published and
confirmed before the handler returns, with an event id derived from the event that caused them.

A redelivered cause therefore yields the same follow-up event id, so downstream idempotency
(keyed by event id) recognises the duplicate even though consume and publish are not one Kafka
transaction.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from conveyor.events.base import Event

_NAMESPACE = uuid.UUID("4f3c2a8e-6d0b-4c1e-9a57-2b8f0d6e1c93")


def follow_up_id(cause: uuid.UUID, kind: str) -> uuid.UUID:
    """The id of the `kind` event caused by event `cause`: the same inputs, the same id."""
    return uuid.uuid5(_NAMESPACE, f"{cause}/{kind}")


class Emitter(Protocol):
    """Publishes one event and returns once the broker has it."""

    def emit(self, event: Event) -> None: ...


class _Handle(Protocol):
    def wait(self, timeout: float | None = None) -> object: ...


class _Publisher(Protocol):
    def publish(self, event: Event) -> _Handle: ...


class ConfirmedEmitter:
    """Wraps conveyor's publisher: `emit` waits for the delivery report (raises on failure, so
    the handler fails and its event is retried instead of being committed without its follow-up).
    """

    def __init__(self, publisher: _Publisher, timeout: float = 30.0) -> None:
        self._publisher = publisher
        self._timeout = timeout

    def emit(self, event: Event) -> None:
        self._publisher.publish(event).wait(self._timeout)
