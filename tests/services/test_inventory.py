"""inventory: reservations, releases and out-of-stock, with the processed mark in the same
transaction as the stock change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conveyor.idempotency import SqliteStore
from conveyor.retry import PermanentError
from conveyor.runtime.testing import ServiceHarness
from inventory import OutOfStockError, StockLedger, build_service, parse_stock
from inventory.errors import StockConfigError
from shop_events import OrderCancelled, OrderItem, OrderPaymentFailed, OrderPlaced


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[StockLedger]:
    store = SqliteStore(tmp_path / "inventory.sqlite3")
    ledger = StockLedger(store, "inventory")
    ledger.stock_up({"BOOK": 5, "MUG": 1})
    yield ledger
    ledger.close()
    store.close()


def placed(order_id: str, **skus: int) -> OrderPlaced:
    items = tuple(OrderItem(sku=sku, quantity=n, unit_price=100) for sku, n in skus.items())
    total = sum(n * 100 for n in skus.values())
    return OrderPlaced(order_id=order_id, user_id="u1", items=items, currency="EUR", total=total)


def test_a_placed_order_reserves_its_lines_once(ledger: StockLedger) -> None:
    """Stock goes down by the order's quantities; a redelivery reserves nothing more."""
    harness = ServiceHarness(build_service(ledger))
    event = placed("o1", BOOK=2, MUG=1)
    harness.feed(event)
    harness.feed(event, attempt=2)
    assert ledger.available() == {"BOOK": 3, "MUG": 0}
    assert ledger.reserved() == {"o1": {"BOOK": 2, "MUG": 1}}


def test_out_of_stock_is_permanent_and_reserves_nothing(ledger: StockLedger) -> None:
    """An order that cannot be filled raises a non-retryable error and leaves stock untouched,
    even for its lines that were available."""
    harness = ServiceHarness(build_service(ledger))
    with pytest.raises(OutOfStockError) as caught:
        harness.feed(placed("o1", BOOK=1, MUG=2))
    assert isinstance(caught.value, PermanentError)
    assert ledger.available() == {"BOOK": 5, "MUG": 1}
    assert ledger.reserved() == {}


def test_unknown_sku_is_out_of_stock(ledger: StockLedger) -> None:
    """A SKU the inventory never stocked cannot be reserved."""
    with pytest.raises(OutOfStockError):
        ServiceHarness(build_service(ledger)).feed(placed("o1", LAMP=1))


def test_cancellation_and_failed_payment_release_the_reservation(ledger: StockLedger) -> None:
    """Both give the reserved units back, once."""
    harness = ServiceHarness(build_service(ledger))
    harness.feed(placed("o1", BOOK=2))
    harness.feed(placed("o2", BOOK=3))
    cancelled = OrderCancelled(order_id="o1", reason="changed my mind")
    harness.feed(cancelled)
    harness.feed(cancelled, attempt=2)
    harness.feed(OrderPaymentFailed(order_id="o2", reason="card declined"))
    assert ledger.available() == {"BOOK": 5, "MUG": 1}
    assert ledger.reserved() == {}


def test_restocking_keeps_current_levels(ledger: StockLedger) -> None:
    """Starting again with the initial stock does not refill SKUs already in the database."""
    ServiceHarness(build_service(ledger)).feed(placed("o1", BOOK=2))
    ledger.stock_up({"BOOK": 5, "LAMP": 3})
    assert ledger.available() == {"BOOK": 3, "MUG": 1, "LAMP": 3}


def test_stock_is_read_from_sku_equals_quantity_pairs() -> None:
    """INVENTORY_STOCK's format, and a clear error for anything else."""
    assert parse_stock("BOOK=5, MUG=0") == {"BOOK": 5, "MUG": 0}
    with pytest.raises(StockConfigError):
        parse_stock("BOOK:5")


def test_an_out_of_stock_order_redriven_after_restocking_is_reserved(tmp_path: Path) -> None:
    """The failed attempt rolled back its processed mark with the stock change, so the same
    event, redriven from the dead letters once stock arrived, reserves."""
    store = SqliteStore(tmp_path / "inventory.sqlite3")
    ledger = StockLedger(store, "inventory")
    harness = ServiceHarness(build_service(ledger))
    event = placed("o1", LAMP=2)
    with pytest.raises(OutOfStockError):
        harness.feed(event)
    ledger.stock_up({"LAMP": 3})
    harness.feed(event, attempt=2)
    assert ledger.reserved() == {"o1": {"LAMP": 2}}
    assert ledger.available()["LAMP"] == 1
    ledger.close()
    store.close()
