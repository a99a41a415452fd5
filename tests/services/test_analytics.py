"""analytics: batches of every event type land once in the table; totals answer from it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from analytics import AnalyticsStore, build_service
from conveyor.runtime.testing import ServiceHarness
from shop_events import OrderItem, OrderPaid, OrderPlaced, UserSignedUp

NINE = datetime(2026, 11, 28, 9, 15, tzinfo=UTC)
TEN = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)


def signup(n: int, at: datetime) -> UserSignedUp:
    return UserSignedUp(user_id=f"u{n}", email=f"u{n}@example.com", name="U", occurred_at=at)


def order(n: int, total: int, at: datetime) -> OrderPlaced:
    item = OrderItem(sku="BOOK", quantity=1, unit_price=total)
    return OrderPlaced(
        order_id=f"o{n}", user_id="u1", items=(item,), currency="EUR", total=total, occurred_at=at
    )


def test_totals_count_signups_and_orders_per_hour_and_paid_revenue(tmp_path: Path) -> None:
    """Signups and orders are counted per hour; revenue sums paid amounts only."""
    store = AnalyticsStore(tmp_path / "analytics.sqlite3")
    harness = ServiceHarness(build_service(store))
    harness.feed_batch([signup(1, NINE), signup(2, NINE), signup(3, TEN)])
    harness.feed_batch([order(1, 1000, NINE), order(2, 700, TEN)])
    harness.feed_batch([OrderPaid(order_id="o1", payment_id="p", amount=1000, currency="EUR")])
    totals = store.totals()
    assert totals.signups_per_hour == {
        NINE.replace(minute=0).isoformat(): 2,
        TEN.replace(minute=0).isoformat(): 1,
    }
    assert sum(totals.orders_per_hour.values()) == 2
    assert totals.revenue == {"EUR": 1000}
    assert totals.by_type == {"UserSignedUp": 3, "OrderPlaced": 2, "OrderPaid": 1}


def test_a_redelivered_batch_is_not_counted_twice(tmp_path: Path) -> None:
    """Rows are keyed by event id, so loading the same events again adds nothing."""
    store = AnalyticsStore(tmp_path / "analytics.sqlite3")
    harness = ServiceHarness(build_service(store))
    batch = [signup(1, NINE), signup(2, NINE)]
    harness.feed_batch(batch)
    harness.feed_batch(batch)
    assert store.totals().by_type == {"UserSignedUp": 2}
