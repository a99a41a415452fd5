"""One plain, readable instance of every event type."""

from __future__ import annotations

from conveyor.events import (
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


def order_placed(items: int = 3) -> OrderPlaced:
    lines = [OrderItem(sku=f"SKU-{n}", quantity=n, unit_price=1250) for n in range(1, items + 1)]
    return OrderPlaced(
        order_id="o-1",
        user_id="u-1",
        items=lines,
        currency="EUR",
        total=sum(line.quantity * line.unit_price for line in lines),
        priority=Priority.HIGH,
    )


def every_event() -> list[Event]:
    return [
        UserSignedUp(user_id="u-1", email="ada@example.org", name="Ada", referral_code="FRIEND"),
        UserSignedUp(user_id="u-2", email="bob@example.org", name="Bob"),
        order_placed(),
        OrderPaid(order_id="o-1", payment_id="p-1", amount=3750, currency="EUR"),
        OrderPaymentFailed(order_id="o-1", reason="card declined"),
        OrderShipped(order_id="o-1", shipment_id="s-1", carrier="DHL", tracking_number="JD0123"),
        OrderCancelled(order_id="o-1", reason="customer asked"),
    ]
