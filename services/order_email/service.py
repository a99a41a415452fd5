"""The order-email service: directory upkeep, one mail per paid, shipped or cancelled order."""

from __future__ import annotations

import os

from conveyor.idempotency import ProcessedEventStore
from conveyor.policies import UNORDERED_RETRY, declared_retry, unordered
from conveyor.retry import RetryPolicy
from conveyor.runtime import Context, Service
from conveyor.serve import serve
from conveyor.settings import Settings
from integrations.config import ORDER_EMAIL_DB, MailVariables
from integrations.mail import Mail, Mailer, MailSender
from integrations.store import processed_store
from order_email.directory import Directory, Recipient
from shop_events import OrderCancelled, OrderPaid, OrderPlaced, OrderShipped, UserSignedUp
from shop_events.orders import OrderEvent

NAME = "order-email"
KINDS: dict[type[OrderEvent], str] = {
    OrderPaid: "order-paid",
    OrderShipped: "order-shipped",
    OrderCancelled: "order-cancelled",
}


def mail_for(event: OrderEvent, to: Recipient) -> Mail:
    amount = f"{to.total / 100:.2f} {to.currency}"
    if isinstance(event, OrderPaid):
        subject, text = "Payment received", f"we received your payment of {amount}."
    elif isinstance(event, OrderShipped):
        subject = "Your order is on its way"
        text = f"it left with {event.carrier}, tracking number {event.tracking_number}."
    elif isinstance(event, OrderCancelled):
        subject, text = "Order cancelled", f"your order was cancelled: {event.reason}."
    else:
        raise TypeError(f"order-email writes no mail for {type(event).__name__}")
    body = f"Hello {to.name},\n\nabout order {event.order_id}: {text}\n\nThe conveyor team\n"
    return Mail(to=to.email, subject=f"{subject} ({event.order_id[:8]})", body=body)


def build_service(
    directory: Directory,
    mailer: MailSender,
    store: ProcessedEventStore | None = None,
    retry: RetryPolicy = UNORDERED_RETRY,
) -> Service:
    """`store` marks each order update mailed, so a redelivery does not mail again."""
    service = Service(NAME)

    @service.handler(UserSignedUp, policy=unordered(retry))
    def add_user(event: UserSignedUp, ctx: Context) -> None:
        directory.add_user(event.user_id, event.email, event.name)

    @service.handler(OrderPlaced, policy=unordered(retry))
    def add_order(event: OrderPlaced, ctx: Context) -> None:
        directory.add_order(event.order_id, event.user_id, event.total, event.currency)

    def send(event: OrderEvent, ctx: Context) -> None:
        mail = mail_for(event, directory.recipient(event.order_id))
        mailer.send(mail, event_id=event.event_id, kind=KINDS[type(event)])

    for event_type in KINDS:
        service.handler(event_type, policy=unordered(retry, store))(send)
    return service


def main(settings: Settings, argv: list[str]) -> int:
    """`conveyor run order-email`; SMTP_HOST/SMTP_PORT name the mail server, ORDER_EMAIL_DB the
    SQLite file of the directory."""
    del argv
    env = os.environ
    directory = Directory(ORDER_EMAIL_DB.from_env(env).file(settings.state_dir, NAME))
    store = processed_store(env, settings.state_dir, NAME)
    try:
        mailer = Mailer(MailVariables.from_env(env).endpoint())
        service = build_service(
            directory, mailer, store, declared_retry(NAME, settings.contracts().topology())
        )
        return serve(service, settings, env)
    finally:
        directory.close()
        store.close()
