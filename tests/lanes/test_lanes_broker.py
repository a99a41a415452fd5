"""A service reading a topic with lanes against the real broker: it serves the higher lanes
first under a backlog, never starves a lower lane, and loses nothing across a restart."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.lanes.support import Handled, LanedTopic, laned_service, running_laned
from tests.runtime.support import committed_offsets, fast_settings, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]

KEYS = [f"k{n}" for n in range(20)]


def keys(lane: str) -> list[str]:
    """Keys of their own per lane: one process never runs two events of a key at once, even from
    two lanes, so a key's urgent event can wait for that key's own event ahead of it."""
    return [f"{lane}-{key}" for key in KEYS]


def _laned(bootstrap: str) -> LanedTopic:
    return LanedTopic.create(bootstrap, f"t-lanes-{uuid.uuid4().hex[:8]}")


def test_backlogged_lanes_are_served_highest_first(kafka_bootstrap: str) -> None:
    """With all three lanes backlogged before the service starts, the high lane is done while
    most of the low lane still waits, and the normal lane comes between."""
    laned = _laned(kafka_bootstrap)
    low = laned.produce("low", keys("low"), 60)
    normal = laned.produce("normal", keys("normal"), 20)
    high = laned.produce("high", keys("high"), 10)
    handled = Handled()
    service = laned_service(f"g-{laned.base}", handled)
    settings = fast_settings(topic_map={"runtime.ping": laned.base}, max_in_flight=8)
    with running_laned(service, laned, settings):
        wait_until(lambda: handled.count() == len(low) + len(normal) + len(high), timeout=90)
    order = [topic for topic, _, _ in handled.order]
    last_high = max(i for i, topic in enumerate(order) if topic == laned.topic("high"))
    last_normal = max(i for i, topic in enumerate(order) if topic == laned.topic("normal"))
    low_before_high = order[:last_high].count(laned.topic("low"))
    assert low_before_high < 0.25 * len(low), (low_before_high, len(low))
    assert last_high < last_normal
    assert order[:last_normal].count(laned.topic("low")) < 0.5 * len(low)


def test_a_lower_lane_still_gets_its_share_under_a_constant_higher_backlog(
    kafka_bootstrap: str,
) -> None:
    """While the high lane always has events waiting, the low lane is still served: about its
    share (a tenth of each second), never nothing."""
    laned = _laned(kafka_bootstrap)
    laned.produce("high", keys("high"), 500)  # far more than the service handles in the window
    laned.produce("low", keys("low"), 100)
    handled = Handled()
    service = laned_service(f"g-{laned.base}", handled, seconds=0.005)
    settings = fast_settings(topic_map={"runtime.ping": laned.base}, max_in_flight=4)
    with running_laned(service, laned, settings):
        wait_until(lambda: handled.count() >= 200, timeout=60, what="the service under way")
        time.sleep(5.0)
        high = len(handled.of(laned.topic("high")))
        low = len(handled.of(laned.topic("low")))
    assert high < 20 * 500, "the high lane's backlog lasted the whole window"
    assert low > 0, "the low lane starved"
    assert 0.02 < low / (low + high) < 0.5, (low, high)


def test_nothing_is_lost_across_a_restart(kafka_bootstrap: str) -> None:
    """A service stopped while lanes still wait, then started again, handles every event of
    every lane and commits each lane to its end."""
    laned = _laned(kafka_bootstrap)
    sent = {lane: laned.produce(lane, keys(lane), 30) for lane in laned.lanes.names}
    group = f"g-{laned.base}"
    settings = fast_settings(topic_map={"runtime.ping": laned.base}, max_in_flight=4)
    handled = Handled()
    with running_laned(laned_service(group, handled, seconds=0.005), laned, settings):
        wait_until(lambda: handled.count() >= 300, timeout=60, what="a third handled")
    assert handled.count() < 3 * 600
    with running_laned(laned_service(group, handled, seconds=0.0), laned, settings):
        for lane, events in sent.items():
            wanted = {(p.entity, p.seq) for p in events}
            topic = laned.topic(lane)
            wait_until(
                lambda: wanted <= {(k, s) for _, k, s in handled.of(topic)},  # noqa: B023
                timeout=60,
                what=f"every {lane} event handled",
            )
        ends = {lane: len(events) for lane, events in sent.items()}
        wait_until(
            lambda: all(
                sum(committed_offsets(kafka_bootstrap, group, laned.topic(lane), 3).values())
                == ends[lane]
                for lane in ends
            ),
            timeout=30,
            what="every lane committed to its end",
        )
