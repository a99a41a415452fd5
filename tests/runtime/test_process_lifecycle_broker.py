"""At-least-once across crashes, nothing twice across graceful restarts, and scaling out and in:
the example echo-sink service run as real `conveyor run` processes against a real broker."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TopicFactory
from tests.runtime.processes import SignupProducer, SteadySignups, echo_sinks, signups
from tests.runtime.support import committed_offsets, wait_until

pytestmark = pytest.mark.kafka

PARTITIONS = 3
# the scaling scenario's waits: long enough for processes that start slowly on a loaded machine
HANG_GUARD = 120.0


def test_sigkill_then_restart_rehandles_only_events_after_the_last_commit(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """Killed mid-stream and restarted, the service handles every event at least once, and
    the only events handled twice lie at or after the offsets committed before the kill."""
    topic = new_topic(partitions=PARTITIONS)
    group = f"g-{topic}"
    events = signups(1500, keys=12)  # 125 events per key, 20 ms each: about 2.5 s of work
    SignupProducer(kafka_bootstrap, topic).send(events)
    with echo_sinks(kafka_bootstrap, topic, group, tmp_path, ECHO_SINK_DELAY_MS="20") as sinks:
        first = sinks.start()
        wait_until(lambda: len(sinks.records()) >= 300, what="the first handled events")
        sinks.kill(first)
        before_kill = sinks.records()
        committed = committed_offsets(kafka_bootstrap, group, topic, PARTITIONS)
        second = sinks.start()
        wanted = {str(event.event_id) for event in events}
        wait_until(lambda: wanted <= sinks.handled_ids(), what="every event handled")
        assert sinks.terminate(second) == 0
    after = sinks.records()[len(before_kill) :]
    handled_first = {(r["partition"], r["offset"]) for r in before_kill}
    handled_again = [r for r in after if (r["partition"], r["offset"]) in handled_first]
    assert 0 < len(before_kill) < len(events), "the kill did not land mid-stream"
    for record in handled_again:
        assert record["offset"] >= committed[record["partition"]]
    for partition, position in committed.items():
        if position >= 0:  # every offset below a commit was handled by the first process
            assert {o for p, o in handled_first if p == partition} >= set(range(position))


def test_sigterm_then_restart_handles_nothing_twice(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """Stopped with SIGTERM mid-stream, the service drains and commits; its restart handles
    each remaining event once and no event twice."""
    topic = new_topic(partitions=PARTITIONS)
    events = signups(1500, keys=12)
    SignupProducer(kafka_bootstrap, topic).send(events)
    with echo_sinks(
        kafka_bootstrap, topic, f"g-{topic}", tmp_path, ECHO_SINK_DELAY_MS="20"
    ) as sinks:
        first = sinks.start()
        wait_until(lambda: len(sinks.records()) >= 300, what="the first handled events")
        assert sinks.terminate(first) == 0
        stopped_at = len(sinks.records())
        second = sinks.start()
        wanted = {str(event.event_id) for event in events}
        wait_until(lambda: wanted <= sinks.handled_ids(), what="every event handled")
        assert sinks.terminate(second) == 0
    records = sinks.records()
    assert stopped_at < len(events), "the first process finished before it was stopped"
    ids = [record["event_id"] for record in records]
    assert len(ids) == len(set(ids)) == len(events)


def test_scaling_one_to_three_to_one_loses_nothing_and_keeps_key_order(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """While events flow, a second and third process join and later leave: every event is
    handled, each key's events are handled in offset order throughout, all three handle events
    while scaled out, and the one left handles everything after they leave."""
    topic = new_topic(partitions=6)
    traffic = SteadySignups(SignupProducer(kafka_bootstrap, topic), keys=100)
    with echo_sinks(
        kafka_bootstrap, topic, f"g-{topic}", tmp_path, ECHO_SINK_DELAY_MS="5"
    ) as sinks:
        first = sinks.start()
        traffic.start()
        wait_until(
            lambda: len(sinks.records()) >= 200, HANG_GUARD, what="the first process handling"
        )
        extra = [sinks.start(), sinks.start()]
        wait_until(
            lambda: len(handlers(sinks.records())) == 3, HANG_GUARD, what="all three handling"
        )
        for process in extra:
            assert sinks.terminate(process) == 0
        scaled_in = len(sinks.records())
        wait_until(
            lambda: len(sinks.records()) >= scaled_in + 200,
            HANG_GUARD,
            what="the one left handling",
        )
        wanted = {str(event.event_id) for event in traffic.stop()}
        wait_until(lambda: wanted <= sinks.handled_ids(), HANG_GUARD, what="every event handled")
        assert sinks.terminate(first) == 0
    records = sinks.records()
    offsets_by_key: dict[tuple[int, str], list[int]] = defaultdict(list)
    for record in records:
        offsets_by_key[(record["partition"], record["user_id"])].append(record["offset"])
    for offsets in offsets_by_key.values():
        assert offsets == sorted(offsets), "a key's events were handled out of order"
    assert len(handlers(records)) == 3
    assert handlers(records[scaled_in:]) == {first.pid}


def handlers(records: list[dict[str, Any]]) -> set[int]:
    """The processes that handled `records`."""
    return {record["pid"] for record in records}
