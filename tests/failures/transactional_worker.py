"""A transactional payments-like service process for the exactly-once tests: each `OrderPlaced`
yields one `OrderPaid` through `ctx.publish`, on the same topic (as payments does).

    python -m tests.failures.transactional_worker BOOTSTRAP TOPIC SERVICE [MODE] [INSTANCE]

MODE is `crash`, `abort-once`, `slow` (50 ms per event, one at a time) or empty; INSTANCE names
the group instance (and so the transactional id) when several workers share this host.

With `crash`, the process SIGKILLs itself inside its first transaction that produced records,
after they reached the log and before the commit: the worst moment to die. With `abort-once`,
the first handling of order `o0` publishes an `OrderPaymentFailed` too large for the topic
instead (the test sets the topic's `max.message.bytes`), so the broker refuses it and its
transaction is aborted; handled again, the order is paid.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from confluent_kafka import Producer

from conveyor.runtime import Context, Service, ServiceSettings, run_service, transactions
from conveyor.settings import Settings
from integrations.followup import follow_up_id
from shop_events import OrderPaid, OrderPaymentFailed, OrderPlaced
from tests.project import repo_codec


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


TOO_LARGE = 50_000  # random bytes, hex-encoded: past the test topic's `max.message.bytes`


def build_service(name: str, abort_once: bool, delay: float) -> Service:
    service = Service(name, transactional=True)
    handled: set[str] = set()

    @service.handler(OrderPlaced)
    def pay(event: OrderPlaced, ctx: Context) -> None:
        oversized = abort_once and event.order_id == "o0" and "o0" not in handled
        handled.add(event.order_id)
        time.sleep(delay)
        if oversized:
            reason = os.urandom(TOO_LARGE).hex()  # random: compression cannot shrink it
            ctx.publish(OrderPaymentFailed(order_id=event.order_id, reason=reason))
            return
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


def main(bootstrap: str, topic: str, name: str, mode: str = "", instance: str = "") -> int:
    if mode == "crash":
        transactions.Producer = CrashingProducer  # type: ignore[attr-defined]
    settings = ServiceSettings(
        commit_interval=0.3,
        shutdown_deadline=5.0,
        http_port=None,
        topic_map={OrderPlaced.TOPIC: topic},
        sync_workers=1 if mode == "slow" else 32,
        group_instance_id=instance or None,
        log_level="DEBUG",  # the tests count the `event.processed` lines of each worker
    )
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    delay = 0.05 if mode == "slow" else 0.0
    service = build_service(name, abort_once=mode == "abort-once", delay=delay)
    return run_service(service, Settings.from_env(env), settings, repo_codec())


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
