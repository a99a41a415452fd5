"""The services page, in a real browser, against a real broker and a real service: the lag of
a stopped service rises as events arrive and falls to 0 once it runs again."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from conveyor.ops.broker import Broker
from conveyor.policies import unordered
from conveyor.runtime import Context, Service
from shop_events import UserSignedUp
from tests.conftest import TopicFactory
from tests.console.conftest import browsing
from tests.console.support import TOKEN, console, publish, running
from tests.runtime.support import wait_until
from tests.samples import signup

pytestmark = pytest.mark.kafka


def _service(name: str, handled: list[str]) -> Service:
    service = Service(name)

    @service.handler(UserSignedUp, policy=unordered())
    def record(event: UserSignedUp, ctx: Context) -> None:
        handled.append(event.user_id)

    return service


def test_services_page_shows_lag_rising_while_stopped_and_zero_once_running(
    kafka_bootstrap: str, new_topic: TopicFactory, browser: Any, tmp_path: Path
) -> None:
    """A stopped service's row shows 4, then 9 events waiting as they arrive, without a reload;
    a replay to the earliest offsets, planned then confirmed on the replay page, adds the one
    event handled before; once the service runs again, the row shows it running with 0 waiting,
    and the replay page refuses to move a running service's offsets."""
    topic = new_topic(partitions=2)
    name = f"console-lag-{uuid.uuid4().hex[:8]}"
    handled: list[str] = []
    topic_map = {UserSignedUp.TOPIC: topic}
    broker = Broker.connect(kafka_bootstrap)
    publish(kafka_bootstrap, topic, [signup("u-first")])
    with running(_service(name, handled), kafka_bootstrap, topic_map) as first_run:
        wait_until(lambda: _committed(broker, name, topic) == 1, what="the first event committed")
        first_run.stop()

    with console(kafka_bootstrap, [name], tmp_path) as app, browsing(browser, app.url) as page:
        page.goto(f"{app.url}/#/services")
        row = page.locator(f"tr[data-service='{name}']")
        expect(row.locator(".state")).to_have_text("stopped")
        expect(row.locator("td.waiting")).to_have_text("0")
        publish(kafka_bootstrap, topic, [signup(f"u-{n}") for n in range(4)])
        expect(row.locator("td.waiting")).to_have_text("4")
        publish(kafka_bootstrap, topic, [signup(f"u-{n}") for n in range(4, 9)])
        expect(row.locator("td.waiting")).to_have_text("9")
        _replay_to_earliest(page, app.url, name)
        page.goto(f"{app.url}/#/services")
        with running(_service(name, handled), kafka_bootstrap, topic_map):
            expect(row.locator(".state")).to_have_text("running")
            expect(row.locator("td.waiting")).to_have_text("0")
            chart = row.locator("svg.spark polyline.waiting")
            points = chart.get_attribute("points") or ""
            page.goto(f"{app.url}/#/replay/{name}")
            page.click("#replay-form button")
            expect(page.locator("#replay-result [role=alert]")).to_contain_text("is running")
            refused_while_running = page.locator("#confirm-replay").count()

    assert Counter(handled) == Counter(["u-first", "u-first"] + [f"u-{n}" for n in range(9)])
    assert refused_while_running == 0
    assert len(points.split()) >= 3  # the chart holds the samples taken on the way


def _replay_to_earliest(page: Any, url: str, service: str) -> None:
    """Plan a replay of the stopped service to the earliest offsets, then apply it."""
    page.goto(f"{url}/#/replay/{service}")
    page.select_option("select[name=to]", "earliest")
    page.click("#replay-form button")
    expect(page.locator("#confirm-replay")).to_have_text("Apply: 1 event(s) to process again")
    page.fill("input[name=token]", TOKEN)
    page.click("#confirm-replay")
    expect(page.locator("#replay-result [role=status]")).to_have_text(
        f"moved the offsets of {service}"
    )


def _committed(broker: Broker, group: str, topic: str) -> int:
    return sum(o for (t, _), o in broker.committed(group).items() if t == topic)
