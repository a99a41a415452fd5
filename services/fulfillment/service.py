"""The fulfillment service: remember lines, ship paid orders, publish `OrderShipped`."""

from __future__ import annotations

import os

from conveyor.errors import ConveyorError
from conveyor.policies import ordered
from conveyor.runtime import Context, Service
from conveyor.serve import serve
from conveyor.settings import Settings
from fulfillment.orders import OrderBook
from integrations.config import FULFILLMENT_DB, WAREHOUSE
from integrations.followup import follow_up_id
from integrations.http import ApiClient, JsonApi
from shop_events import OrderPaid, OrderPlaced, OrderShipped

NAME = "fulfillment"
ORDERED = ordered()


class OrderNotSeenError(ConveyorError):
    """A payment arrived for an order whose placement this service has not seen (its events
    were published out of order, or the placement was lost); retried, then dead-lettered."""


def build_service(warehouse: JsonApi, book: OrderBook) -> Service:
    # transactional: OrderShipped goes out in one Kafka transaction with the payment's offset
    service = Service(NAME, transactional=True)

    @service.handler(OrderPlaced, policy=ORDERED)
    def remember_lines(event: OrderPlaced, ctx: Context) -> None:
        lines = [{"sku": item.sku, "quantity": item.quantity} for item in event.items]
        book.remember(event.order_id, lines)

    @service.handler(OrderPaid, policy=ORDERED)
    def ship(event: OrderPaid, ctx: Context) -> None:
        lines = book.lines(event.order_id)
        if lines is None:
            raise OrderNotSeenError(f"no OrderPlaced seen for order {event.order_id}")
        shipment = {"order_id": event.order_id, "lines": lines}
        answer = warehouse.post("/shipments", shipment, idempotency_key=event.order_id)
        ctx.publish(
            OrderShipped(
                event_id=follow_up_id(event.event_id, "OrderShipped"),
                order_id=event.order_id,
                shipment_id=str(answer.body["shipment_id"]),
                carrier=str(answer.body["carrier"]),
                tracking_number=str(answer.body["tracking_number"]),
            )
        )

    return service


def main(settings: Settings, argv: list[str]) -> int:
    """`conveyor run fulfillment`; WAREHOUSE_URL names the warehouse API, FULFILLMENT_DB the
    SQLite file of remembered order lines."""
    del argv
    env = os.environ
    warehouse = ApiClient(WAREHOUSE.from_env(env).endpoint())
    book = OrderBook(FULFILLMENT_DB.from_env(env).file(settings.state_dir, NAME))
    try:
        return serve(build_service(warehouse, book), settings, env)
    finally:
        warehouse.close()
        book.close()
