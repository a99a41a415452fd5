"""The payments service: charge, then publish the outcome; and `main`."""

from __future__ import annotations

import os

from conveyor.events import Event
from conveyor.policies import ordered
from conveyor.runtime import Context, Service
from conveyor.serve import serve
from conveyor.settings import Settings
from integrations.config import PAYMENTS
from integrations.followup import follow_up_id
from integrations.http import ApiAnswer, ApiClient, JsonApi
from shop_events import OrderPaid, OrderPaymentFailed, OrderPlaced

NAME = "payments"
DECLINED = 402


def outcome_of(order: OrderPlaced, answer: ApiAnswer) -> Event:
    """`OrderPaid` for a successful charge, `OrderPaymentFailed` for a declined one."""
    if answer.status == DECLINED:
        return OrderPaymentFailed(
            event_id=follow_up_id(order.event_id, "OrderPaymentFailed"),
            order_id=order.order_id,
            reason=str(answer.body.get("reason") or "declined"),
        )
    return OrderPaid(
        event_id=follow_up_id(order.event_id, "OrderPaid"),
        order_id=order.order_id,
        payment_id=str(answer.body["charge_id"]),
        amount=order.total,
        currency=order.currency,
    )


def build_service(gateway: JsonApi) -> Service:
    # transactional: the outcome event goes out in one Kafka transaction with the order's offset
    service = Service(NAME, transactional=True)

    @service.handler(OrderPlaced, policy=ordered())
    def charge(event: OrderPlaced, ctx: Context) -> None:
        charge = {"order_id": event.order_id, "amount": event.total, "currency": event.currency}
        answer = gateway.post("/charges", charge, idempotency_key=event.order_id, accept={DECLINED})
        ctx.publish(outcome_of(event, answer))

    return service


def main(settings: Settings, argv: list[str]) -> int:
    """`conveyor run payments`; PAYMENTS_URL names the payment gateway."""
    del argv
    env = os.environ
    gateway = ApiClient(PAYMENTS.from_env(env).endpoint())
    try:
        return serve(build_service(gateway), settings, env)
    finally:
        gateway.close()
