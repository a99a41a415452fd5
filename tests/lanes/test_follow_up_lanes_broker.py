"""A handler's follow-ups keep the lane of the event it handles, against the real broker: in a
transactional service and in one without transactions, by one rule (`lane=` given, else the
follow-up's lane field, else the handled event's lane where the target topic has it, else the
target's default lane)."""

from __future__ import annotations

import threading
import uuid

import pytest

from conveyor import naming
from conveyor.lanes import Lanes
from conveyor.publish import Publisher, PublisherConfig
from conveyor.runtime import Context, Service, run_service
from conveyor.settings import Settings
from shop_events import ORDER_TOPIC, USER_TOPIC, OrderPaid, Priority, UserSignedUp
from tests.conftest import create_topic
from tests.project import repo_codec
from tests.reading import read_until
from tests.runtime.support import fast_settings
from tests.samples import order_placed, signup

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]

SIGNUP_LANES = Lanes(("urgent", "normal", "low"), "normal")
ORDER_LANES = Lanes(("high", "normal", "low"), "normal", field="priority")
LANES = {USER_TOPIC: SIGNUP_LANES, ORDER_TOPIC: ORDER_LANES}


def _create(bootstrap: str, base: str, lanes: Lanes) -> None:
    for topic in lanes.topics(base):
        create_topic(bootstrap, topic, 2)


def _follow_ups(service: Service) -> None:
    """Each sign-up `u-<case>-...` makes the order follow-ups its case names."""

    @service.handler(UserSignedUp)
    def order(event: UserSignedUp, ctx: Context) -> None:
        case = event.user_id.split("-")[1]
        paid = OrderPaid(order_id=event.user_id, payment_id="p", amount=1, currency="EUR")
        if case == "inherit":
            ctx.publish(paid)
        elif case == "asked":
            ctx.publish(paid, lane="high")
        elif case == "field":
            placed = order_placed(order_id=event.user_id)  # priority HIGH
            ctx.publish(placed.model_copy(update={"priority": Priority.LOW}).validated())


@pytest.mark.parametrize("transactional", [False, True], ids=["plain", "transactional"])
def test_follow_ups_take_the_lane_of_the_event_they_follow(
    kafka_bootstrap: str, transactional: bool
) -> None:
    """From a sign-up in the low lane, an OrderPaid goes to the orders' low lane; from an urgent
    one (orders have no urgent lane) to the orders' default lane; `lane=` and an order's
    priority field win over the sign-up's lane."""
    run = uuid.uuid4().hex[:8]
    users, orders = f"t-fl-users-{run}", f"t-fl-orders-{run}"
    _create(kafka_bootstrap, users, SIGNUP_LANES)
    _create(kafka_bootstrap, orders, ORDER_LANES)
    codec = repo_codec()
    service = Service(f"g-fl-{run}", transactional=transactional)
    _follow_ups(service)
    config = PublisherConfig(
        bootstrap_servers=kafka_bootstrap,
        topics={USER_TOPIC: users, ORDER_TOPIC: orders},
        lanes=LANES,
    )
    cases = {
        "u-inherit-low": "low",
        "u-inherit-urgent": None,
        "u-inherit-normal": None,
        "u-asked-low": "low",
        "u-field-urgent": "urgent",
    }
    stop = threading.Event()
    with Publisher(config, codec) as publisher:
        for user_id, lane in cases.items():
            publisher.publish(signup(user_id), lane=lane).wait(30)
        settings = fast_settings(topic_map={USER_TOPIC: users, ORDER_TOPIC: orders})
        base = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
        extra = {} if transactional else {"publisher": publisher}
        thread = threading.Thread(
            target=run_service,
            args=(service, base, settings, codec),
            kwargs={"stop": stop, "lanes": LANES, **extra},
            daemon=True,
        )
        thread.start()
        try:
            found = read_until(kafka_bootstrap, ORDER_LANES.topics(orders), len(cases), timeout=60)
        finally:
            stop.set()
            thread.join(30)

    landed = {
        bytes(message.key() or b"").decode(): (
            message.topic(),
            dict(message.headers() or [])[naming.LANE],
        )
        for message in found
    }
    assert landed == {
        "u-inherit-low": (f"{orders}.lane.low", b"low"),
        "u-inherit-urgent": (orders, b"normal"),
        "u-inherit-normal": (orders, b"normal"),
        "u-asked-low": (f"{orders}.lane.high", b"high"),
        "u-field-urgent": (f"{orders}.lane.low", b"low"),
    }
    assert not thread.is_alive(), "the service did not stop"
