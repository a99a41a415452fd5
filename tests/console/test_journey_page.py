"""An order's journey, in a real browser, against a real broker and three real services: each
event of the order, in order, with what each service made of it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from conveyor.events import OrderPaid, OrderPlaced
from conveyor.ops.broker import Broker
from conveyor.policies import unordered
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, Service
from tests.conftest import TopicFactory
from tests.console.conftest import browsing
from tests.console.support import console, publish, running
from tests.failures.support import create_side_topics
from tests.runtime.support import wait_until
from tests.samples import order_placed

pytestmark = pytest.mark.kafka


def _service(name: str, fails_on: type | None, retry: RetryPolicy) -> Service:
    """Handles OrderPlaced and OrderPaid; raises on events of type `fails_on`."""
    service = Service(name)

    def handle(event: OrderPlaced | OrderPaid, ctx: Context) -> None:
        if isinstance(event, fails_on or ()):
            raise TimeoutError("the downstream API timed out")

    service.handler(OrderPlaced, policy=unordered(retry))(handle)
    service.handler(OrderPaid, policy=unordered(retry))(handle)
    return service


def test_journey_of_an_order_shows_each_services_handling(
    kafka_bootstrap: str, new_topic: TopicFactory, browser: Any, tmp_path: Path
) -> None:
    """For the order's two events: payments handled both; stock dead-lettered the placed order
    and handled the payment; mail handled the placed order and is retrying the payment on its
    first tier (a minute's backoff)."""
    topic = new_topic(partitions=3)
    run = uuid.uuid4().hex[:8]
    quick = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=1))
    slow = RetryPolicy(attempts=3, backoff=Backoff(delay=60, max_delay=60))
    services = {
        f"payments-{run}": _service(f"payments-{run}", None, quick),
        f"stock-{run}": _service(f"stock-{run}", OrderPlaced, quick),
        f"mail-{run}": _service(f"mail-{run}", OrderPaid, slow),
    }
    for name in services:
        create_side_topics(kafka_bootstrap, name, tiers=1, partitions=3)
    order_id = f"order-{run}"
    placed = order_placed(order_id=order_id)
    paid = OrderPaid(order_id=order_id, payment_id="p-1", amount=placed.total, currency="EUR")
    others = [order_placed(order_id=f"other-{n}-{run}") for n in range(3)]
    publish(kafka_bootstrap, topic, [others[0], placed, others[1], paid, others[2]])
    broker = Broker.connect(kafka_bootstrap)
    topic_map = {OrderPlaced.TOPIC: topic}

    with (
        running(services[f"payments-{run}"], kafka_bootstrap, topic_map),
        running(services[f"stock-{run}"], kafka_bootstrap, topic_map),
        running(services[f"mail-{run}"], kafka_bootstrap, topic_map),
    ):
        wait_until(
            lambda: all(_committed(broker, name, topic) == 5 for name in services),
            what="every service committed the five events",
        )
        with (
            console(kafka_bootstrap, list(services), tmp_path) as app,
            browsing(browser, app.url) as page,
        ):
            page.goto(f"{app.url}/#/journey")
            page.fill("input[name=key]", order_id)
            page.click("#journey-form button")
            events = page.locator("#journey div.event")
            expect(events).to_have_count(2)
            seen = [_fates(events.nth(i)) for i in range(2)]
            kinds = [events.nth(i).locator("strong").inner_text() for i in range(2)]

    assert kinds == [OrderPlaced.AVRO_NAME, OrderPaid.AVRO_NAME]
    assert seen == [
        {f"payments-{run}": "handled", f"stock-{run}": "dead-lettered", f"mail-{run}": "handled"},
        {f"payments-{run}": "handled", f"stock-{run}": "handled", f"mail-{run}": "retrying"},
    ]


def _fates(event: Any) -> dict[str, str]:
    badges = event.locator(".fate")
    return {
        badges.nth(i).get_attribute("data-service"): badges.nth(i).get_attribute("data-state")
        for i in range(badges.count())
    }


def _committed(broker: Broker, group: str, topic: str) -> int:
    return sum(o for (t, _), o in broker.committed(group).items() if t == topic)
