"""payments: charges each placed order through the payment gateway's HTTP API (idempotency key =
order id, so a retry never charges twice), then publishes `OrderPaid` or `OrderPaymentFailed`.

The follow-up event's id derives from the `OrderPlaced` event id, so a redelivery after a crash
republishes the same event id and downstream idempotency drops the copy.

    PAYMENTS_URL=http://127.0.0.1:8102 conveyor run payments
"""

from payments.service import NAME, build_service, main

__all__ = ["NAME", "build_service", "main"]
