"""welcome-email and order-email handlers, through the runtime's in-memory double."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.runtime.testing import ServiceHarness
from integrations.mail import Mailer, SmtpEndpoint, message_id
from order_email import Directory, RecipientUnknownError
from order_email import build_service as build_order_email
from shop_events import (
    OrderCancelled,
    OrderItem,
    OrderPaid,
    OrderPlaced,
    OrderShipped,
    UserSignedUp,
)
from smtp_sink.sink import read_messages, start_sink
from tests.services.support import RecordingMailer
from welcome_email import build_service as build_welcome_email

ADA = UserSignedUp(user_id="u1", email="ada@example.com", name="Ada")


def placed(order_id: str = "o1", user_id: str = "u1") -> OrderPlaced:
    item = OrderItem(sku="BOOK", quantity=2, unit_price=1250)
    return OrderPlaced(
        order_id=order_id, user_id=user_id, items=(item,), currency="EUR", total=2500
    )


def test_welcome_mail_goes_to_the_new_user_with_a_message_id_from_the_event(
    tmp_path: Path,
) -> None:
    """Over real SMTP: a redelivered signup produces a second message with the same Message-ID,
    so the receiving side can recognise it."""
    sink = start_sink(tmp_path / "mail")
    try:
        harness = ServiceHarness(build_welcome_email(Mailer(SmtpEndpoint(port=sink.port))))
        harness.feed(ADA)
        harness.feed(ADA, attempt=2)
    finally:
        sink.stop()
    messages = read_messages(tmp_path / "mail")
    assert [m["To"] for m in messages] == ["ada@example.com", "ada@example.com"]
    assert {m["Message-ID"] for m in messages} == {
        message_id(ADA.event_id, "welcome", "conveyor.invalid")
    }
    assert "Ada" in messages[0]["Subject"]


def test_welcome_email_ignores_order_events() -> None:
    """The service registers no handler for order events."""
    harness = ServiceHarness(build_welcome_email(RecordingMailer()))
    assert harness.feed(placed()) is False


@pytest.fixture
def directory(tmp_path: Path) -> Directory:
    return Directory(tmp_path / "order-email.sqlite3")


def test_each_order_update_mails_its_customer_once(directory: Directory) -> None:
    """Paid, shipped and cancelled each produce one mail to the address from the signup."""
    mailer = RecordingMailer()
    harness = ServiceHarness(build_order_email(directory, mailer))
    harness.feed(ADA)
    harness.feed(placed())
    paid = OrderPaid(order_id="o1", payment_id="p1", amount=2500, currency="EUR")
    shipped = OrderShipped(order_id="o1", shipment_id="s1", carrier="DHL", tracking_number="T1")
    cancelled = OrderCancelled(order_id="o1", reason="changed my mind")
    for event in (paid, shipped, cancelled):
        harness.feed(event)
    assert [(m.to, kind) for m, _, kind in mailer.sent] == [
        ("ada@example.com", "order-paid"),
        ("ada@example.com", "order-shipped"),
        ("ada@example.com", "order-cancelled"),
    ]
    assert [event_id for _, event_id, _ in mailer.sent] == [
        paid.event_id,
        shipped.event_id,
        cancelled.event_id,
    ]
    assert "25.00 EUR" in mailer.sent[0][0].body
    assert "T1" in mailer.sent[1][0].body


def test_an_order_of_an_unknown_customer_is_retryable(directory: Directory) -> None:
    """Before the signup is seen, the mail cannot be addressed: a retryable error, nothing sent."""
    mailer = RecordingMailer()
    harness = ServiceHarness(build_order_email(directory, mailer))
    harness.feed(placed())
    with pytest.raises(RecipientUnknownError):
        harness.feed(OrderPaid(order_id="o1", payment_id="p1", amount=2500, currency="EUR"))
    assert mailer.sent == []
