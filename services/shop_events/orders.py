"""Events of the order lifecycle, all on topic `order.events` and keyed by `order_id`, so the
events of one order keep their order on one partition."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from conveyor.events import Event
from conveyor.events.fields import Currency, EntityId, Money, Quantity, Text

ORDER_TOPIC = "order.events"


class Priority(StrEnum):
    """Fulfilment priority of an order (Avro enum `conveyor.events.Priority`)."""

    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


class OrderItem(BaseModel):
    """One line of an order: a product and how many (Avro record `conveyor.events.OrderItem`)."""

    # Instances passed into an order are validated again, so a `model_construct`ed item with
    # wrong values cannot slip into a valid order.
    model_config = ConfigDict(frozen=True, extra="forbid", revalidate_instances="always")

    sku: Text = Field(description="Stock keeping unit of the product.")
    quantity: Quantity = Field(description="How many units, at least 1.")
    unit_price: Money = Field(description="Price of one unit in minor units of the currency.")


class OrderEvent(Event):
    """Base of the order lifecycle events: one topic, keyed by the order id."""

    TOPIC: ClassVar[str] = ORDER_TOPIC
    KEY_FIELD: ClassVar[str] = "order_id"

    order_id: EntityId = Field(description="Id of the order; the Kafka key of its lifecycle.")


class OrderPlaced(OrderEvent):
    """A user placed an order (schema `schemas/orders/OrderPlaced.v1.avsc`)."""

    AVRO_NAME: ClassVar[str] = "conveyor.events.OrderPlaced"

    user_id: EntityId = Field(description="Id of the user who placed the order.")
    items: tuple[OrderItem, ...] = Field(min_length=1, description="The line items, at least one.")
    currency: Currency = Field(description="ISO 4217 code of the currency of every amount.")
    total: Money = Field(description="Amount to pay in minor units of the currency.")
    priority: Priority = Field(default=Priority.NORMAL, description="How urgently to fulfil it.")


class OrderPaid(OrderEvent):
    """The payment of an order succeeded (schema `schemas/orders/OrderPaid.v1.avsc`)."""

    AVRO_NAME: ClassVar[str] = "conveyor.events.OrderPaid"

    payment_id: EntityId = Field(description="Id of the payment at the payment provider.")
    amount: Money = Field(description="Amount paid in minor units of the currency.")
    currency: Currency = Field(description="ISO 4217 code of the currency of the amount.")


class OrderPaymentFailed(OrderEvent):
    """The payment of an order failed (schema `schemas/orders/OrderPaymentFailed.v1.avsc`)."""

    AVRO_NAME: ClassVar[str] = "conveyor.events.OrderPaymentFailed"

    reason: Text = Field(description="Why the payment failed, as the payment provider said it.")


class OrderShipped(OrderEvent):
    """An order left the warehouse (schema `schemas/orders/OrderShipped.v1.avsc`)."""

    AVRO_NAME: ClassVar[str] = "conveyor.events.OrderShipped"

    shipment_id: EntityId = Field(description="Id of the shipment in the warehouse system.")
    carrier: Text = Field(description="Name of the carrier that delivers it, e.g. DHL.")
    tracking_number: Text = Field(description="Tracking number at the carrier.")


class OrderCancelled(OrderEvent):
    """An order was cancelled (schema `schemas/orders/OrderCancelled.v1.avsc`)."""

    AVRO_NAME: ClassVar[str] = "conveyor.events.OrderCancelled"

    reason: Text = Field(description="Why the order was cancelled.")
