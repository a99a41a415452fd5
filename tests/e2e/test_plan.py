"""The demo's traffic plan: pure and seeded, so every run sends what its checks expect."""

from __future__ import annotations

from collections import Counter

import pytest

from demo.options import DemoOptions
from demo.plan import ADJUSTER, DECLINE_DIGITS, SOLD_OUT, Fate, make_plan


def test_shares_of_failing_orders_follow_the_options() -> None:
    """5% out of stock, 5% declined, 3% cancelled of 300 orders, the rest fulfilled."""
    plan = make_plan(DemoOptions(orders=300))
    fates = Counter(order.fate for order in plan.orders)
    assert fates == {
        Fate.OUT_OF_STOCK: 15,
        Fate.DECLINED: 15,
        Fate.CANCELLED: 9,
        Fate.FULFILLED: 261,
    }


def test_only_declined_orders_end_in_the_decline_digits() -> None:
    """The payment stand-in declines totals ending in 13: exactly the planned declines do."""
    for order in make_plan(DemoOptions(orders=500, seed=3)).orders:
        declines = order.total % 100 == DECLINE_DIGITS
        assert declines == (order.fate is Fate.DECLINED), order


def test_only_out_of_stock_orders_ask_for_the_sold_out_sku() -> None:
    """The sold-out SKU appears in exactly the orders planned to be out of stock."""
    for order in make_plan(DemoOptions(orders=200)).orders:
        skus = {line.sku for line in order.lines}
        assert (SOLD_OUT in skus) == (order.fate is Fate.OUT_OF_STOCK)
        assert skus <= {"BOOK", "MUG", "TEE", "POSTER", ADJUSTER, SOLD_OUT}


def test_orders_come_after_their_user_signed_up_and_cancels_after_their_order() -> None:
    """Steps are in time order; each order's user signed up earlier; each cancel follows its
    order, so the gateway knows both."""
    plan = make_plan(DemoOptions(signups=50, orders=80, duration=20))
    seen_users: set[int] = set()
    placed: set[int] = set()
    assert [s.at for s in plan.steps] == sorted(s.at for s in plan.steps)
    for step in plan.steps:
        if step.kind == "signup":
            seen_users.add(step.index)
        elif step.kind == "order":
            assert plan.orders[step.index].user in seen_users
            placed.add(step.index)
        else:
            assert step.index in placed
    assert max(step.at for step in plan.steps) <= 22.0


def test_the_same_seed_gives_the_same_plan() -> None:
    """Runs are reproducible."""
    assert make_plan(DemoOptions(seed=11)) == make_plan(DemoOptions(seed=11))


def test_shares_that_cannot_add_up_are_refused() -> None:
    """More than all orders failing or cancelled is a configuration error."""
    with pytest.raises(ValueError, match="shares"):
        DemoOptions(out_of_stock_share=0.6, declined_share=0.6)
