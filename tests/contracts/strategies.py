"""Hypothesis strategies for every event type, spanning the full range each schema allows."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

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
from conveyor.events.fields import INT_MAX, LONG_MAX

texts = st.text(min_size=1, max_size=40)
ids = st.text(min_size=1, max_size=200)
money = st.integers(min_value=0, max_value=LONG_MAX)
currencies = st.from_regex(r"\A[A-Z]{3}\Z")
times = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
)
common = {"event_id": st.uuids(), "occurred_at": times}

items = st.builds(OrderItem, sku=texts, quantity=st.integers(1, INT_MAX), unit_price=money)

events: dict[type[Event], st.SearchStrategy[Event]] = {
    UserSignedUp: st.builds(
        UserSignedUp,
        user_id=ids,
        email=texts,
        name=texts,
        referral_code=st.none() | texts,
        **common,
    ),
    OrderPlaced: st.builds(
        OrderPlaced,
        order_id=ids,
        user_id=ids,
        items=st.lists(items, min_size=1, max_size=5),
        currency=currencies,
        total=money,
        priority=st.sampled_from(Priority),
        **common,
    ),
    OrderPaid: st.builds(
        OrderPaid, order_id=ids, payment_id=ids, amount=money, currency=currencies, **common
    ),
    OrderPaymentFailed: st.builds(OrderPaymentFailed, order_id=ids, reason=texts, **common),
    OrderShipped: st.builds(
        OrderShipped,
        order_id=ids,
        shipment_id=ids,
        carrier=texts,
        tracking_number=texts,
        **common,
    ),
    OrderCancelled: st.builds(OrderCancelled, order_id=ids, reason=texts, **common),
}

any_event = st.one_of(*events.values())
