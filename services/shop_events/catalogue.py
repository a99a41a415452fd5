"""Every event type of the reference pipeline, by Avro full name and by topic."""

from __future__ import annotations

from conveyor.events import Event, UnknownEventTypeError, UnknownTopicError
from shop_events.orders import (
    OrderCancelled,
    OrderPaid,
    OrderPaymentFailed,
    OrderPlaced,
    OrderShipped,
)
from shop_events.users import UserSignedUp

_ALL: tuple[type[Event], ...] = (
    UserSignedUp,
    OrderPlaced,
    OrderPaid,
    OrderPaymentFailed,
    OrderShipped,
    OrderCancelled,
)

EVENT_TYPES: dict[str, type[Event]] = {e.AVRO_NAME: e for e in _ALL}
"""Avro full name (the `event-type` header) -> model."""

TOPICS: tuple[str, ...] = tuple(dict.fromkeys(e.TOPIC for e in _ALL))
"""Every topic events travel on, in declaration order."""


def event_types_of(topic: str) -> tuple[type[Event], ...]:
    """The event types that travel on `topic`, e.g. the five order lifecycle events."""
    types = tuple(e for e in _ALL if topic == e.TOPIC)
    if not types:
        raise UnknownTopicError(f"no event type travels on topic {topic!r}; known: {TOPICS}")
    return types


def event_type(name: str) -> type[Event]:
    """The model of the Avro full name `name` (the `event-type` header's value)."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise UnknownEventTypeError(f"unknown event type {name!r}") from None
