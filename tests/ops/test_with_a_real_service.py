"""The operations commands against a real service: the example echo-sink run as a
`conveyor run` process, handling sign-ups from a real broker."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from conveyor.ops import replay, status
from conveyor.ops.broker import Broker
from conveyor.ops.errors import GroupActiveError
from conveyor.ops.replay import AtTime, Earliest
from conveyor.ops.topology import resolve
from tests.conftest import TopicFactory
from tests.runtime.processes import SignupProducer, echo_sinks, signups
from tests.runtime.support import wait_until

pytestmark = pytest.mark.kafka


def _caught_up(broker: Broker, group: str, topic: str, events: int) -> bool:
    committed = broker.committed(group)
    return sum(o for (t, _), o in committed.items() if t == topic) >= events


def test_a_stopped_service_shows_its_lag_and_a_running_one_refuses_replay(
    kafka_bootstrap: str, broker: Broker, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """While the service runs, status shows its member and replay is refused; once it is
    stopped, status still shows the events that arrived since, as lag."""
    topic = new_topic(partitions=3)
    group = f"g-{topic}"
    producer = SignupProducer(kafka_bootstrap, topic)
    producer.send(signups(60, keys=20))
    with echo_sinks(kafka_bootstrap, topic, group, tmp_path) as sinks:
        running = sinks.start()
        wait_until(lambda: _caught_up(broker, group, topic, 60), what="the first 60 committed")
        live = status.collect(broker, resolve(broker, group))
        plan = replay.plan(broker, resolve(broker, group), Earliest())
        with pytest.raises(GroupActiveError):
            replay.apply(broker, plan)
        assert sinks.terminate(running) == 0
    producer.send(signups(25, keys=5))

    stopped = status.collect(broker, resolve(broker, group))

    assert len(live.members) == 1
    assert live.waiting == 0
    assert stopped.members == ()
    assert stopped.waiting == 25
    assert stopped.waiting_seconds >= 0


def test_replay_to_a_time_makes_the_service_handle_exactly_the_later_events(
    kafka_bootstrap: str, broker: Broker, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """After a replay to a time between two batches, the restarted service handles each event
    of the second batch once more and none of the first."""
    topic = new_topic(partitions=3)
    group = f"g-{topic}"
    producer = SignupProducer(kafka_bootstrap, topic)
    first, second = signups(40, keys=10), signups(30, keys=10)
    producer.send(first)
    time.sleep(0.01)  # the second batch's timestamps come strictly after the boundary
    boundary_ms = int(time.time() * 1000)
    producer.send(second)
    with echo_sinks(kafka_bootstrap, topic, group, tmp_path) as sinks:
        process = sinks.start()
        wait_until(lambda: _caught_up(broker, group, topic, 70), what="all 70 committed")
        assert sinks.terminate(process) == 0
        handled_before = len(sinks.records())
        plan = replay.plan(broker, resolve(broker, group), AtTime(boundary_ms))
        replay.apply(broker, plan)
        process = sinks.start()
        wait_until(lambda: len(sinks.records()) >= handled_before + 30, what="the replay")
        wait_until(lambda: _caught_up(broker, group, topic, 70), what="caught up again")
        assert sinks.terminate(process) == 0
    again = Counter(r["event_id"] for r in sinks.records()[handled_before:])

    assert plan.reprocess == 30
    assert again == Counter({str(e.event_id): 1 for e in second})
