"""Traces end to end against the real broker: an order through the gateway and three services
is one trace, and a dead letter redriven later joins the trace of the event it carries."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp

from conveyor import naming
from conveyor.ops import redrive
from conveyor.ops.broker import Broker
from conveyor.ops.deadletters import DeadLetterFilter, read_all
from conveyor.ops.topology import resolve
from conveyor.policies import Policies
from conveyor.publish import Publisher, PublisherConfig
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from gateway.app import create_app
from gateway.service import Gateway, GatewayConfig
from shop_events import OrderPaid, OrderPlaced, OrderShipped, UserSignedUp
from tests.conftest import TopicFactory
from tests.failures.support import create_side_topics, running_with
from tests.project import repo_codec
from tests.runtime.support import Ping, PingCodec, fast_settings, wait_until
from tests.tracing.support import Spans, installed_spans, parent_of, span_id, trace_of

pytestmark = pytest.mark.kafka


def _order_services(orders: str, shipped: threading.Event) -> tuple[Service, Service, Service]:
    """payments (transactional: its follow-up goes out with its offsets), fulfillment (publishes
    through the process's publisher) and an e-mail service with a sync handler."""
    payments = Service(f"payments-{orders}", transactional=True)
    fulfillment = Service(f"fulfillment-{orders}")
    email = Service(f"order-email-{orders}")

    @payments.handler(OrderPlaced)
    async def charge(event: OrderPlaced, ctx: Context) -> None:
        paid = OrderPaid(
            order_id=event.order_id, payment_id="pay-1", amount=event.total, currency="EUR"
        )
        ctx.publish(paid)

    @fulfillment.handler(OrderPaid)
    async def ship(event: OrderPaid, ctx: Context) -> None:
        ctx.publish(
            OrderShipped(
                order_id=event.order_id, shipment_id="s-1", carrier="DHL", tracking_number="T-1"
            )
        )

    @email.handler(OrderShipped)
    def mail(event: OrderShipped, ctx: Context) -> None:
        shipped.set()

    return payments, fulfillment, email


def _only(spans: list[ReadableSpan], name: str, service: str | None = None) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.name == name
        and (service is None or (s.attributes or {}).get("conveyor.service") == service)
    ]
    assert len(found) == 1, f"{len(found)} spans named {name!r} ({service})"
    return found[0]


def test_one_order_through_the_gateway_and_three_services_is_one_trace(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """POST /orders is the root; its outbox row's `create` span is its child; payments handles
    the order under it, its transactional follow-up under that, fulfillment's handling under
    the follow-up, and so on down to the e-mail: seven spans, one trace, each the child of the
    one before."""
    orders = new_topic(partitions=3)
    signups = new_topic(partitions=1)
    topics = {OrderPlaced.TOPIC: orders, UserSignedUp.TOPIC: signups}
    codec = repo_codec()
    shipped = threading.Event()
    settings = fast_settings(topic_map=topics)
    with installed_spans() as spans:
        payments, fulfillment, email = _order_services(orders, shipped)
        publisher = Publisher(PublisherConfig(kafka_bootstrap, topics=topics), codec)
        database = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
        gateway_publisher = PublisherConfig(kafka_bootstrap, client_id="gateway", topics=topics)
        gateway = Gateway(GatewayConfig(database, gateway_publisher), codec)
        with (
            running_with(payments, kafka_bootstrap, settings, None, codec=codec),
            running_with(
                fulfillment, kafka_bootstrap, settings, None, codec=codec, publisher=publisher
            ),
            running_with(email, kafka_bootstrap, settings, None, codec=codec),
            contextlib.closing(_Started(gateway)),
        ):
            order = asyncio.run(_place_order(create_app(gateway)))
            assert order.status_code == 202
            wait_until(shipped.is_set, timeout=60, what="the order's shipping e-mail")
            request = _only(spans.finished, "POST /orders")
            wait_until(
                lambda: len(spans.of_trace(trace_of(request))) >= 7, what="the handling spans"
            )
        publisher.close()
        trace = spans.of_trace(trace_of(request))

    charge = _only(trace, f"process {orders}", payments.name)
    paid = [s for s in trace if s.name == f"create {orders}" and parent_of(s) == span_id(charge)]
    placed = [s for s in trace if s.name == f"create {orders}" and parent_of(s) == span_id(request)]
    ship = _only(trace, f"process {orders}", fulfillment.name)
    shipped_sent = _only(trace, f"send {orders}")
    mail = _only(trace, f"process {orders}", email.name)
    assert len(trace) == 7
    assert request.parent is None
    assert request.kind is SpanKind.SERVER
    assert (request.attributes or {})["http.response.status_code"] == 202
    assert [parent_of(s) for s in (*placed, charge, *paid, ship, shipped_sent, mail)] == [
        span_id(request),
        span_id(placed[0]),
        span_id(charge),
        span_id(paid[0]),
        span_id(ship),
        span_id(shipped_sent),
    ]
    assert (placed[0].attributes or {})["messaging.message.id"] == order.json()["event_id"]
    assert {s.kind for s in (charge, ship, mail)} == {SpanKind.CONSUMER}
    assert (mail.attributes or {})["conveyor.event_type"] == OrderShipped.AVRO_NAME
    assert (charge.attributes or {})["messaging.consumer.group.name"] == payments.name


class _Started:
    """The gateway's relay running until `close` (as the app's lifespan would run it)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        gateway.start()

    def close(self) -> None:
        self._gateway.stop()


async def _place_order(app: ASGIApp) -> httpx.Response:
    """A sign-up, then that user's order, through the app's HTTP interface."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        user = await http.post("/signup", json={"email": "ada@example.org", "name": "Ada"})
        return await http.post(
            "/orders",
            json={
                "user_id": user.json()["user_id"],
                "items": [{"sku": "book", "quantity": 2, "unit_price": 1500}],
                "currency": "EUR",
            },
        )


def _failing_service(name: str, broken: set[str]) -> Service:
    """Unordered, one retry tier then the dead letters; keys in `broken` fail."""
    service = Service(name)
    retry = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=0.2))

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.UNORDERED, retry=retry))
    def handle(event: Ping, ctx: Context) -> None:
        if event.entity in broken:
            raise ConnectionError("downstream down")

    return service


def test_a_redriven_dead_letter_joins_the_trace_of_the_event_it_carries(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """An event fails twice (its own topic, then the retry tier) and is dead-lettered: each
    attempt is an error span under the publish span, with its retry or dead-letter write as its
    child. Redriven after the fix, its handling is a third child of the same publish span, and
    the redrive's own span (another trace) is linked from the redriven write."""
    topic = new_topic(partitions=1)
    broker = Broker.connect(kafka_bootstrap, timeout=10)
    service = _failing_service(f"traced-{topic}", broken := {"X"})
    create_side_topics(kafka_bootstrap, service.name, tiers=1)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    with installed_spans() as spans:
        publisher = Publisher(
            PublisherConfig(kafka_bootstrap, topics={Ping.TOPIC: topic}), PingCodec()
        )
        publisher.publish(Ping(entity="X")).wait(30)
        publisher.close()
        sent = _only(spans.finished, f"send {topic}")
        attempts = _attempts(spans, trace_of(sent))
        with running_with(service, kafka_bootstrap, settings, Policies(kafka_bootstrap)):
            wait_until(lambda: len(list(read_all(broker, resolve(broker, service.name)))) == 1)
            wait_until(lambda: len(attempts()) == 2, what="two failed attempts")
            broken.clear()
            plan = redrive.plan(broker, resolve(broker, service.name), DeadLetterFilter(key="X"))
            redrive.execute(broker, plan)
            wait_until(lambda: len(attempts()) == 3, what="the redriven attempt")
        first, second, redriven = sorted(attempts(), key=lambda s: s.start_time or 0)

    retry1 = naming.retry_topic(service.name, 1)
    dlq = naming.dead_letter_topic(service.name)
    assert [parent_of(s) for s in (first, second, redriven)] == [span_id(sent)] * 3
    assert [
        (s.attributes or {})["messaging.destination.name"] for s in (first, second, redriven)
    ] == [
        topic,
        retry1,
        retry1,
    ]
    assert [s.status.status_code for s in (first, second, redriven)] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    assert (redriven.attributes or {})["conveyor.redrive_count"] == 1
    forwards = {
        s.name: s
        for s in spans.of_trace(trace_of(sent))
        if (s.attributes or {}).get("conveyor.forward")
    }
    assert parent_of(forwards[f"send {dlq}"]) == span_id(second)
    writes = [s for s in spans.of_trace(trace_of(sent)) if s.name == f"send {retry1}"]
    to_tier, by_redrive = sorted(writes, key=lambda s: s.start_time or 0)
    assert parent_of(to_tier) == span_id(first)
    assert (by_redrive.attributes or {})["conveyor.forward"] == "redrive"
    run = _only(spans.finished, "redrive")
    assert trace_of(run) != trace_of(sent)
    assert [link.context.span_id for link in by_redrive.links] == [span_id(run)]


def _attempts(spans: Spans, trace_id: int) -> Callable[[], list[ReadableSpan]]:
    """The handling spans of one trace, as they are now."""
    return lambda: [s for s in spans.of_trace(trace_id) if s.kind is SpanKind.CONSUMER]
