"""The event models: what they accept, what they refuse, and where they travel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from conveyor.events import UnknownTopicError
from conveyor.events.fields import INT_MAX
from shop_events import (
    EVENT_TYPES,
    OrderItem,
    OrderPaid,
    OrderPlaced,
    UserSignedUp,
    event_type,
    event_types_of,
)

PAID = {"order_id": "o-1", "payment_id": "p-1", "amount": 1250, "currency": "EUR"}


def test_occurred_at_is_kept_in_utc_to_the_millisecond() -> None:
    """Times become UTC (naive ones are taken as UTC) and lose what timestamp-millis cannot keep."""
    cet = timezone(timedelta(hours=1))
    local = OrderPaid(**PAID, occurred_at=datetime(2026, 1, 1, 13, 0, 0, 123_456, tzinfo=cet))
    naive = OrderPaid(**PAID, occurred_at=datetime(2026, 1, 1, 12, 0, 0, 123_999))

    assert local.occurred_at == datetime(2026, 1, 1, 12, 0, 0, 123_000, tzinfo=UTC)
    assert local.occurred_at.tzinfo is UTC
    assert naive.occurred_at == local.occurred_at


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 12.5),
        ("amount", "1250"),
        ("amount", -1),
        ("amount", 2**63),
        ("currency", "eur"),
        ("order_id", ""),
    ],
)
def test_paid_refuses_values_the_contract_forbids(field: str, value: object) -> None:
    """Money is a non-negative 64-bit count of minor units (never a float or a string)."""
    with pytest.raises(ValidationError, match=field):
        OrderPaid(**{**PAID, field: value})


def test_an_order_needs_items_with_positive_quantities() -> None:
    """No empty orders; quantities are Avro ints of at least 1."""
    base = {"order_id": "o", "user_id": "u", "currency": "EUR", "total": 0}
    with pytest.raises(ValidationError, match="items"):
        OrderPlaced(**base, items=[])
    with pytest.raises(ValidationError, match="quantity"):
        OrderItem(sku="A", quantity=0, unit_price=1)
    with pytest.raises(ValidationError, match="quantity"):
        OrderItem(sku="A", quantity=INT_MAX + 1, unit_price=1)


def test_events_are_immutable_and_refuse_unknown_fields() -> None:
    """An event is a fact: it cannot be changed after the fact, nor carry undeclared fields."""
    event = OrderPaid(**PAID)

    with pytest.raises(ValidationError):
        event.amount = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="coupon"):
        OrderPaid(**PAID, coupon="X")  # type: ignore[call-arg]


def test_every_event_gets_a_fresh_id_and_its_entity_key() -> None:
    """event_id is generated per event; the key is the entity id."""
    first, second = OrderPaid(**PAID), OrderPaid(**PAID)
    signup = UserSignedUp(user_id="u-9", email="a@example.org", name="A")

    assert first.event_id != second.event_id
    assert first.key == "o-1"
    assert signup.key == "u-9"


def test_event_types_by_name_and_by_topic() -> None:
    """The `event-type` header names a model; a topic lists the models it carries."""
    assert event_type("conveyor.events.OrderPaid") is OrderPaid
    assert EVENT_TYPES["conveyor.events.UserSignedUp"] is UserSignedUp
    assert event_types_of("user.signup") == (UserSignedUp,)
    with pytest.raises(UnknownTopicError):
        event_types_of("nope")
