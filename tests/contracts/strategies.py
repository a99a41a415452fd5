"""Hypothesis strategies for every event type, spanning the full range each schema allows."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

import shop_events as ev
from conveyor.events import Event
from conveyor.events.fields import INT_MAX, LONG_MAX

texts = st.text(min_size=1, max_size=40)
ids = st.text(min_size=1, max_size=200)
money = st.integers(min_value=0, max_value=LONG_MAX)
currencies = st.from_regex(r"\A[A-Z]{3}\Z")
times = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
)
common = {"event_id": st.uuids(), "occurred_at": times}

items = st.builds(ev.OrderItem, sku=texts, quantity=st.integers(1, INT_MAX), unit_price=money)

events: dict[type[Event], st.SearchStrategy[Event]] = {
    ev.UserSignedUp: st.builds(
        ev.UserSignedUp,
        user_id=ids,
        email=texts,
        name=texts,
        referral_code=st.none() | texts,
        **common,
    ),
    ev.OrderPlaced: st.builds(
        ev.OrderPlaced,
        order_id=ids,
        user_id=ids,
        items=st.lists(items, min_size=1, max_size=5),
        currency=currencies,
        total=money,
        priority=st.sampled_from(ev.Priority),
        **common,
    ),
    ev.OrderPaid: st.builds(
        ev.OrderPaid, order_id=ids, payment_id=ids, amount=money, currency=currencies, **common
    ),
    ev.OrderPaymentFailed: st.builds(ev.OrderPaymentFailed, order_id=ids, reason=texts, **common),
    ev.OrderShipped: st.builds(
        ev.OrderShipped,
        order_id=ids,
        shipment_id=ids,
        carrier=texts,
        tracking_number=texts,
        **common,
    ),
    ev.OrderCancelled: st.builds(ev.OrderCancelled, order_id=ids, reason=texts, **common),
}

any_event = st.one_of(*events.values())
