"""`conveyor pause` / `resume` against the real broker and real service processes: paused
members stop handling, stay paused through a restart and a rebalance, and hand everything over
once resumed, nothing lost and nothing handled twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conveyor.ops import pauses
from conveyor.ops.broker import Broker
from shop_events import UserSignedUp
from tests.conftest import TopicFactory
from tests.runtime.processes import SignupProducer, echo_sinks, signups
from tests.runtime.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]

QUIET = 3.0  # seconds a paused service is watched for doing nothing (pauses act within 2 s)


def test_paused_service_handles_nothing_through_restart_and_rebalance_until_resumed(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """Two members handle a first batch; paused, neither handles the second batch, nor does a
    restarted member or a third that joins; resumed, they handle it, each event once."""
    topic = new_topic(partitions=3)
    control = new_topic(partitions=1, suffix="control", **{"cleanup.policy": "compact"})
    group = f"g-{topic}"
    broker = Broker.connect(kafka_bootstrap)
    producer = SignupProducer(kafka_bootstrap, topic)
    topic_map = f"{UserSignedUp.TOPIC}={topic},conveyor.control={control}"
    with echo_sinks(kafka_bootstrap, topic, group, tmp_path, CONVEYOR_TOPIC_MAP=topic_map) as sinks:
        first = sinks.start()
        sinks.start()
        before = signups(40, keys=8)
        producer.send(before)
        wait_until(lambda: len(sinks.records()) >= 40, what="the first batch handled")

        pauses.pause(broker, group, None, control)
        time.sleep(2.0)  # the pause's promise: every member stops fetching within 2 s
        after = signups(40, keys=8)
        producer.send(after)
        time.sleep(QUIET)
        assert len(sinks.records()) == 40
        assert pauses.paused(broker, group, control).everything

        assert sinks.terminate(first) == 0
        sinks.start()  # a restarted member starts paused
        sinks.start()  # and a third joins: the rebalance hands out paused partitions
        time.sleep(QUIET + 3.0)
        assert len(sinks.records()) == 40

        assert pauses.resume(broker, group, None, control) == 1
        wanted = {str(e.event_id) for e in before + after}
        wait_until(lambda: wanted <= sinks.handled_ids(), what="the second batch handled")
    ids = [record["event_id"] for record in sinks.records()]
    assert len(ids) == len(set(ids)) == 80
