"""payments: charges each placed order through the payment gateway's HTTP API (idempotency key =
order id, so a retry never charges twice), then publishes `OrderPaid` or `OrderPaymentFailed`.

Consume and publish are one Kafka transaction (`Service(..., transactional=True)`): the follow-up
is visible to `read_committed` consumers exactly once, together with the commit of its order's
offset. Its id still derives from the `OrderPlaced` event id, so a redrive or replay of the order
yields the same event id.

    PAYMENTS_URL=http://127.0.0.1:8102 conveyor run payments
"""

from payments.service import NAME, build_service, main

__all__ = ["NAME", "build_service", "main"]
