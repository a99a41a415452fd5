"""Typed domain events: the Python mirror of the Avro contracts in `schemas/`.

Every model knows its topic (`TOPIC`), its key field (`KEY_FIELD`) and its Avro full name
(`AVRO_NAME`, also the `event-type` header). A contract test keeps models and schemas in step.
"""

from conveyor.events.base import Event, utc_now
from conveyor.events.catalogue import EVENT_TYPES, TOPICS, event_type, event_types_of
from conveyor.events.errors import UnknownEventTypeError, UnknownTopicError
from conveyor.events.orders import (
    ORDER_TOPIC,
    OrderCancelled,
    OrderItem,
    OrderPaid,
    OrderPaymentFailed,
    OrderPlaced,
    OrderShipped,
    Priority,
)
from conveyor.events.users import USER_TOPIC, UserSignedUp

__all__ = [
    "EVENT_TYPES",
    "ORDER_TOPIC",
    "TOPICS",
    "USER_TOPIC",
    "Event",
    "OrderCancelled",
    "OrderItem",
    "OrderPaid",
    "OrderPaymentFailed",
    "OrderPlaced",
    "OrderShipped",
    "Priority",
    "UnknownEventTypeError",
    "UnknownTopicError",
    "UserSignedUp",
    "event_type",
    "event_types_of",
    "utc_now",
]
