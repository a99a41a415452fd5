"""A transactional payments-like service process for the exactly-once tests: each `OrderPlaced`
yields one `OrderPaid` through `ctx.publish`, on the same topic (as payments does).

    python -m tests.failures.transactional_worker BOOTSTRAP TOPIC SERVICE [crash]

With `crash`, the process SIGKILLs itself inside its first transaction that produced records,
after they reached the log and before the commit: the worst moment to die.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from confluent_kafka import Producer

from conveyor.codec import default_codec
from conveyor.events import OrderPaid, OrderPlaced
from conveyor.runtime import Context, Service, ServiceSettings, run_service, transactions
from conveyor.settings import Settings
from integrations.followup import follow_up_id


class CrashingProducer(Producer):
    """Dies at the commit of the first transaction that produced records, once they are written."""

    def produce(self, *args: Any, **kwargs: Any) -> None:
        self.produced = True
        super().produce(*args, **kwargs)

    def commit_transaction(self, *args: Any) -> None:
        if getattr(self, "produced", False):
            self.flush(10)
            os.kill(os.getpid(), signal.SIGKILL)
        super().commit_transaction(*args)


def build_service(name: str) -> Service:
    service = Service(name, transactional=True)

    @service.handler(OrderPlaced)
    def pay(event: OrderPlaced, ctx: Context) -> None:
        ctx.publish(
            OrderPaid(
                event_id=follow_up_id(event.event_id, "OrderPaid"),
                order_id=event.order_id,
                payment_id=f"pay-{event.order_id}",
                amount=event.total,
                currency=event.currency,
            )
        )

    return service


def main(bootstrap: str, topic: str, name: str, mode: str = "") -> int:
    if mode == "crash":
        transactions.Producer = CrashingProducer  # type: ignore[misc]
    settings = ServiceSettings(
        commit_interval=0.3,
        shutdown_deadline=5.0,
        http_port=None,
        topic_map={OrderPlaced.TOPIC: topic},
    )
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    return run_service(build_service(name), Settings.from_env(env), settings, default_codec())


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
