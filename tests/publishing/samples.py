"""One valid event of every type, keyed so that several land on each partition."""

from __future__ import annotations

import uuid

from conveyor.events import (
    EVENT_TYPES,
    Event,
    OrderCancelled,
    OrderItem,
    OrderPaid,
    OrderPaymentFailed,
    OrderPlaced,
    OrderShipped,
    Priority,
    UserSignedUp,
)


def sample_events(entity: str | None = None) -> list[Event]:
    """Every type in `EVENT_TYPES`, once; the order events share `entity` as order id."""
    order_id = entity or f"order-{uuid.uuid4().hex[:12]}"
    user_id = f"user-{uuid.uuid4().hex[:12]}"
    events: list[Event] = [
        UserSignedUp(user_id=user_id, email="ada@example.org", name="Ada", referral_code="R1"),
        OrderPlaced(
            order_id=order_id,
            user_id=user_id,
            items=(OrderItem(sku="SKU-1", quantity=2, unit_price=1250),),
            currency="EUR",
            total=2500,
            priority=Priority.HIGH,
        ),
        OrderPaid(order_id=order_id, payment_id="pay-1", amount=2500, currency="EUR"),
        OrderPaymentFailed(order_id=order_id, reason="card declined"),
        OrderShipped(order_id=order_id, shipment_id="sh-1", carrier="DHL", tracking_number="T1"),
        OrderCancelled(order_id=order_id, reason="changed my mind"),
    ]
    assert {type(e) for e in events} == set(EVENT_TYPES.values()), "a new event type needs a sample"
    return events


def signup(user_id: str, name: str = "Grace") -> UserSignedUp:
    return UserSignedUp(user_id=user_id, email=f"{user_id}@example.org", name=name)
