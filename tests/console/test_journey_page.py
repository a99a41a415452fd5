"""An order's journey, in a real browser, against a real broker, the real gateway and three
real services: each event of the order, in order, with what each service made of it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from conveyor.ops.broker import Broker
from conveyor.policies import unordered
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, Service
from shop_events import ORDER_TOPIC, USER_TOPIC, OrderCancelled, OrderPlaced
from tests.conftest import TopicFactory
from tests.console.conftest import browsing
from tests.console.support import console, running
from tests.failures.support import create_side_topics
from tests.publishing.gateway_process import GatewayProcess
from tests.runtime.support import wait_until

pytestmark = pytest.mark.kafka


def _service(name: str, fails_on: type | None, retry: RetryPolicy) -> Service:
    """Handles OrderPlaced and OrderCancelled; raises on events of type `fails_on`."""
    service = Service(name)

    def handle(event: OrderPlaced | OrderCancelled, ctx: Context) -> None:
        if isinstance(event, fails_on or ()):
            raise TimeoutError("the downstream API timed out")

    service.handler(OrderPlaced, policy=unordered(retry))(handle)
    service.handler(OrderCancelled, policy=unordered(retry))(handle)
    return service


def _orders_through_the_gateway(gateway: GatewayProcess, count: int) -> list[str]:
    """A sign-up, then `count` orders placed and cancelled through the gateway's HTTP API."""
    items = [{"sku": "SKU-1", "quantity": 1, "unit_price": 1250}]
    with httpx.Client(base_url=gateway.url, timeout=10) as http:
        email = f"ada.{uuid.uuid4().hex[:6]}@example.org"
        user = http.post("/signup", json={"email": email, "name": "Ada"}).json()["user_id"]
        orders = []
        for _ in range(count):
            placed = http.post("/orders", json={"user_id": user, "items": items, "currency": "EUR"})
            assert placed.status_code == 202, placed.text
            orders.append(placed.json()["order_id"])
        for order_id in orders:
            assert http.post(f"/orders/{order_id}/cancel").status_code == 202
    return orders


def test_journey_of_an_order_from_the_gateway_shows_each_services_handling(
    kafka_bootstrap: str, new_topic: TopicFactory, browser: Any, tmp_path: Path
) -> None:
    """For an order placed and cancelled through the gateway: payments handled both events;
    stock dead-lettered the placed order and handled the cancellation; mail handled the placed
    order and is retrying the cancellation on its first tier (a minute's backoff)."""
    topics = {USER_TOPIC: new_topic(suffix="users"), ORDER_TOPIC: new_topic(suffix="orders")}
    run = uuid.uuid4().hex[:8]
    quick = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=1))
    slow = RetryPolicy(attempts=3, backoff=Backoff(delay=60, max_delay=60))
    payments, stock, mail = f"payments-{run}", f"stock-{run}", f"mail-{run}"
    services = [
        _service(payments, None, quick),
        _service(stock, OrderPlaced, quick),
        _service(mail, OrderCancelled, slow),
    ]
    for service in services:
        create_side_topics(kafka_bootstrap, service.name, tiers=1, partitions=3)
    broker = Broker.connect(kafka_bootstrap)
    gateway = GatewayProcess(
        kafka_bootstrap, f"sqlite:///{tmp_path / 'gw.sqlite3'}", topics, tmp_path / "gw.log"
    )
    try:
        gateway.wait_live()
        orders = _orders_through_the_gateway(gateway, count=3)
        # the relay publishes after the answers: on a fresh broker its first send waits for the
        # idempotence coordinator, so stopping at once would leave the events in the outbox
        wait_until(
            lambda: _published(broker, topics[ORDER_TOPIC]) == 6,
            timeout=60,
            what="the gateway's relay published the six order events",
        )
    finally:
        gateway.stop()
    order_id = orders[1]
    names = [s.name for s in services]

    with (
        running(services[0], kafka_bootstrap, topics),
        running(services[1], kafka_bootstrap, topics),
        running(services[2], kafka_bootstrap, topics),
    ):
        wait_until(
            lambda: all(_committed(broker, name, topics[ORDER_TOPIC]) == 6 for name in names),
            timeout=90,  # three group joins, a retry and a dead letter on a loaded machine
            what="every service committed the six order events",
        )
        with console(kafka_bootstrap, names, tmp_path) as app, browsing(browser, app.url) as page:
            page.goto(f"{app.url}/#/journey")
            page.fill("input[name=key]", order_id)
            page.click("#journey-form button")
            events = page.locator("#journey div.event")
            expect(events).to_have_count(2)
            seen = [_fates(events.nth(i)) for i in range(2)]
            kinds = [events.nth(i).locator("strong").inner_text() for i in range(2)]

    assert kinds == [OrderPlaced.AVRO_NAME, OrderCancelled.AVRO_NAME]
    assert seen == [
        {payments: "handled", stock: "dead-lettered", mail: "handled"},
        {payments: "handled", stock: "handled", mail: "retrying"},
    ]


def _fates(event: Any) -> dict[str, str]:
    badges = event.locator(".fate")
    return {
        badges.nth(i).get_attribute("data-service"): badges.nth(i).get_attribute("data-state")
        for i in range(badges.count())
    }


def _published(broker: Broker, topic: str) -> int:
    return sum(high for _, high in broker.watermarks(broker.partitions(topic)).values())


def _committed(broker: Broker, group: str, topic: str) -> int:
    return sum(o for (t, _), o in broker.committed(group).items() if t == topic)
