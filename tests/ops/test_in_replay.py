"""`ctx.in_replay`: a handler can tell the events a `conveyor replay` brought back from new ones."""

from __future__ import annotations

import threading

import pytest

from conveyor.ops import replay
from conveyor.ops.broker import Broker
from conveyor.ops.replay import Earliest
from conveyor.ops.topology import resolve
from conveyor.runtime import Context, Service
from tests.conftest import TopicFactory
from tests.runtime.support import (
    Ping,
    committed_offsets,
    fast_settings,
    produce_pings,
    running,
    wait_until,
)

pytestmark = pytest.mark.kafka


def test_replayed_events_are_in_replay_and_new_ones_are_not(
    kafka_bootstrap: str, broker: Broker, new_topic: TopicFactory
) -> None:
    """After a replay to the earliest offset, the three events handled before run again with
    `ctx.in_replay` true; two events produced after the replay run with it false."""
    topic = new_topic(partitions=1)
    seen: list[tuple[int, bool]] = []
    lock = threading.Lock()
    service = Service(f"welcome-{topic}")

    @service.handler(Ping)
    def welcome(event: Ping, ctx: Context) -> None:
        with lock:
            seen.append((event.seq, ctx.in_replay))

    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    produce_pings(kafka_bootstrap, topic, ["u"], per_key=3)
    with running(service, kafka_bootstrap, settings):
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 3},
            what="the first run's commit",
        )
    replay.apply(broker, replay.plan(broker, resolve(broker, service.name), Earliest()))
    first_run = list(seen)
    produce_pings(kafka_bootstrap, topic, ["u"], per_key=2)  # seq 0 and 1 again, but new events
    with running(service, kafka_bootstrap, settings):
        wait_until(lambda: len(seen) == 3 + 3 + 2, what="the replay and the new events")

    assert first_run == [(0, False), (1, False), (2, False)]
    assert seen[3:] == [(0, True), (1, True), (2, True), (0, False), (1, False)]
