"""The reference pipeline's domain events: the Python mirror of the Avro contracts in `schemas/`.

Bound to their schemas by Avro full name (`conveyor.events.*`, the wire names), through this
repository's `[tool.conveyor] models`. A contract test keeps models and schemas in step.
"""

from shop_events.catalogue import EVENT_TYPES, TOPICS, event_type, event_types_of
from shop_events.orders import (
    ORDER_TOPIC,
    OrderCancelled,
    OrderEvent,
    OrderItem,
    OrderPaid,
    OrderPaymentFailed,
    OrderPlaced,
    OrderShipped,
    Priority,
)
from shop_events.users import USER_TOPIC, UserSignedUp

__all__ = [
    "EVENT_TYPES",
    "ORDER_TOPIC",
    "TOPICS",
    "USER_TOPIC",
    "OrderCancelled",
    "OrderEvent",
    "OrderItem",
    "OrderPaid",
    "OrderPaymentFailed",
    "OrderPlaced",
    "OrderShipped",
    "Priority",
    "UserSignedUp",
    "event_type",
    "event_types_of",
]
