"""The sample events every test suite shares: one valid, readable instance of each type."""

from __future__ import annotations

import uuid

from conveyor.events import Event
from shop_events import (
    EVENT_TYPES,
    OrderCancelled,
    OrderItem,
    OrderPaid,
    OrderPaymentFailed,
    OrderPlaced,
    OrderShipped,
    Priority,
    UserSignedUp,
)


def order_placed(items: int = 3, order_id: str = "o-1", user_id: str = "u-1") -> OrderPlaced:
    lines = [OrderItem(sku=f"SKU-{n}", quantity=n, unit_price=1250) for n in range(1, items + 1)]
    return OrderPlaced(
        order_id=order_id,
        user_id=user_id,
        items=lines,
        currency="EUR",
        total=sum(line.quantity * line.unit_price for line in lines),
        priority=Priority.HIGH,
    )


def one_of_each(order_id: str = "o-1", user_id: str = "u-1") -> list[Event]:
    """Every type in `EVENT_TYPES`, once: a signup by `user_id`, then `order_id`'s events."""
    placed = order_placed(order_id=order_id, user_id=user_id)
    events: list[Event] = [
        UserSignedUp(user_id=user_id, email="ada@example.org", name="Ada", referral_code="FRIEND"),
        placed,
        OrderPaid(order_id=order_id, payment_id="p-1", amount=placed.total, currency="EUR"),
        OrderPaymentFailed(order_id=order_id, reason="card declined"),
        OrderShipped(order_id=order_id, shipment_id="s-1", carrier="DHL", tracking_number="JD0123"),
        OrderCancelled(order_id=order_id, reason="customer asked"),
    ]
    assert {type(e) for e in events} == set(EVENT_TYPES.values()), "a new event type needs a sample"
    return events


def every_event() -> list[Event]:
    """`one_of_each()` with fixed ids, plus a signup without its optional field."""
    return [*one_of_each(), UserSignedUp(user_id="u-2", email="bob@example.org", name="Bob")]


def sample_events(entity: str | None = None) -> list[Event]:
    """`one_of_each` about order `entity` (a fresh order id by default) and a fresh user."""
    order_id = entity or f"order-{uuid.uuid4().hex[:12]}"
    return one_of_each(order_id, f"user-{uuid.uuid4().hex[:12]}")


def signup(user_id: str, name: str = "Grace") -> UserSignedUp:
    return UserSignedUp(user_id=user_id, email=f"{user_id}@example.org", name=name)
