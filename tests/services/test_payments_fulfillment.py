"""payments and fulfillment against the payment-gateway and warehouse stand-ins over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.events.base import Event
from conveyor.runtime.testing import ServiceHarness
from fulfillment import OrderNotSeenError
from fulfillment import build_service as build_fulfillment
from fulfillment.orders import OrderBook
from integrations.http import ApiClient, ApiEndpoint
from payments import build_service as build_payments
from shop_events import OrderItem, OrderPaid, OrderPaymentFailed, OrderPlaced, OrderShipped
from standins.apis import Api, StandinConfig
from tests.services.support import running_standin


def _same_event(a: Event, b: Event) -> bool:
    """Same id and content; `occurred_at` tells when each copy was made."""
    return a.model_dump(exclude={"occurred_at"}) == b.model_dump(exclude={"occurred_at"})


def placed(order_id: str, total: int) -> OrderPlaced:
    item = OrderItem(sku="BOOK", quantity=1, unit_price=total)
    return OrderPlaced(order_id=order_id, user_id="u1", items=(item,), currency="EUR", total=total)


def test_a_charged_order_is_paid_once_even_when_redelivered() -> None:
    """The order id is the charge's idempotency key: one charge, and the redelivery publishes
    the same OrderPaid (same event id), which downstream idempotency drops."""
    with running_standin(StandinConfig(Api.PAYMENTS)) as url:
        gateway = ApiClient(ApiEndpoint(url))
        harness = ServiceHarness(build_payments(gateway))
        order = placed("o1", 2500)
        harness.feed(order)
        harness.feed(order, attempt=2)
        charges = gateway.get("/charges")
    assert [(c["order_id"], c["amount"], c["status"]) for c in charges] == [
        ("o1", 2500, "succeeded")
    ]
    first, second = harness.published
    assert isinstance(first, OrderPaid)
    assert (first.amount, first.currency, first.payment_id) == (
        2500,
        "EUR",
        charges[0]["charge_id"],
    )
    assert _same_event(second, first)


def test_a_declined_charge_publishes_payment_failed() -> None:
    """Amounts the gateway declines become OrderPaymentFailed with the gateway's reason."""
    config = StandinConfig(Api.PAYMENTS, decline_amounts_ending_in="13")
    with running_standin(config) as url:
        harness = ServiceHarness(build_payments(ApiClient(ApiEndpoint(url))))
        harness.feed(placed("o1", 1013))
    [failed] = harness.published
    assert isinstance(failed, OrderPaymentFailed)
    assert (failed.order_id, failed.reason) == ("o1", "card declined")


def test_a_paid_order_is_shipped_with_its_lines_and_announced(tmp_path: Path) -> None:
    """Fulfillment remembers the placed lines, ships them once paid, and emits OrderShipped."""
    with running_standin(StandinConfig(Api.WAREHOUSE)) as url:
        warehouse = ApiClient(ApiEndpoint(url))
        harness = ServiceHarness(build_fulfillment(warehouse, OrderBook(tmp_path / "f.sqlite3")))
        harness.feed(placed("o1", 900))
        paid = OrderPaid(order_id="o1", payment_id="p1", amount=900, currency="EUR")
        harness.feed(paid)
        harness.feed(paid, attempt=2)
        shipments = warehouse.get("/shipments")
    assert [(s["order_id"], s["lines"]) for s in shipments] == [
        ("o1", [{"sku": "BOOK", "quantity": 1}])
    ]
    shipped = harness.published[0]
    assert isinstance(shipped, OrderShipped)
    assert shipped.tracking_number == shipments[0]["tracking_number"]
    assert _same_event(harness.published[1], shipped)


def test_a_payment_for_an_unseen_order_is_refused(tmp_path: Path) -> None:
    """Without the placement the lines are unknown: the handler raises, nothing is shipped."""
    with running_standin(StandinConfig(Api.WAREHOUSE)) as url:
        warehouse = ApiClient(ApiEndpoint(url))
        harness = ServiceHarness(build_fulfillment(warehouse, OrderBook(tmp_path / "f.sqlite3")))
        with pytest.raises(OrderNotSeenError):
            harness.feed(OrderPaid(order_id="o9", payment_id="p", amount=1, currency="EUR"))
        assert warehouse.get("/shipments") == []
    assert harness.published == []
