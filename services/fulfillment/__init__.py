"""fulfillment: creates a shipment through the warehouse's HTTP API for each paid order
(idempotency key = order id) and publishes `OrderShipped`.

`OrderPaid` does not carry the order's lines, so the service also keeps the lines of each
`OrderPlaced` it sees; both travel on `order.events` under the order's key, so the placement is
always handled before the payment.

    WAREHOUSE_URL=http://127.0.0.1:8103 conveyor run fulfillment
"""

from fulfillment.service import NAME, OrderNotSeenError, build_service, main

__all__ = ["NAME", "OrderNotSeenError", "build_service", "main"]
