"""`conveyor replay`: plans change nothing, live services are refused, applied plans move
exactly the expected offsets and record the replay window handlers can ask about."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from conveyor import replay as replay_windows
from conveyor.cli.main import cli
from conveyor.ops import replay
from conveyor.ops.broker import Broker
from conveyor.ops.errors import GroupActiveError
from conveyor.ops.replay import AtOffsets, AtTime, Earliest, ShiftBy
from conveyor.ops.topology import resolve
from tests.ops.conftest import Svc, read_topic

pytestmark = pytest.mark.kafka

BASE_MS = 1_790_000_000_000


def _handled(svc: Svc, events: int, committed: int) -> str:
    """A 1-partition input with `events` one second apart, `committed` of them handled."""
    topic = svc.topic("input", partitions=1)
    for i in range(events):
        svc.produce(topic, f"k{i % 3}", str(i).encode(), timestamp_ms=BASE_MS + i * 1000)
    svc.flush()
    svc.commit({(topic, 0): committed})
    return topic


def _reprocessed(broker: Broker, svc: Svc, topic: str) -> list[int]:
    """The events the service would handle next: from its committed offset to the end."""
    start = broker.committed(svc.name)[(topic, 0)]
    return [int(r.value or b"") for r in read_topic(broker, topic) if r.offset >= start]


def test_replay_dry_run_changes_nothing(kafka_bootstrap: str, broker: Broker, svc: Svc) -> None:
    """A dry run prints the plan (committed, new, to process again) and moves no offset."""
    topic = _handled(svc, events=10, committed=8)

    result = CliRunner().invoke(
        cli,
        ["replay", svc.name, "--to-earliest", "--dry-run", "--json"],
        env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
    )

    assert result.exit_code == 0, result.output
    assert '"reprocess": 8' in result.stdout
    assert broker.committed(svc.name) == {(topic, 0): 8}
    assert replay.recorded_windows(broker, svc.name).windows == {}


def test_replay_refuses_while_the_service_runs(broker: Broker, svc: Svc) -> None:
    """With a live member the replay is refused, naming the member and how to stop it."""
    topic = _handled(svc, events=5, committed=5)
    plan = replay.plan(broker, resolve(broker, svc.name), Earliest())

    with svc.running(topic), pytest.raises(GroupActiveError) as refused:
        replay.apply(broker, plan)

    assert f"{svc.name}-worker" in str(refused.value)
    assert "SIGTERM" in str(refused.value)
    assert broker.committed(svc.name) == {(topic, 0): 5}


def test_replay_to_earliest_reprocesses_every_event(broker: Broker, svc: Svc) -> None:
    """To earliest: the group restarts at offset 0, so all 10 events run again, and the
    replay window covers exactly the 7 that had been handled."""
    topic = _handled(svc, events=10, committed=7)

    plan = replay.plan(broker, resolve(broker, svc.name), Earliest())
    replay.apply(broker, plan)

    assert [(m.current, m.new, m.reprocess) for m in plan.moves] == [(7, 0, 7)]
    assert _reprocessed(broker, svc, topic) == list(range(10))
    windows = replay_windows.for_service(svc.bootstrap, svc.name)
    assert [o for o in range(10) if windows.contains(topic, 0, o)] == list(range(7))


def test_replay_to_a_time_starts_at_the_first_event_at_or_after_it(
    broker: Broker, svc: Svc
) -> None:
    """To a time between events 4 and 5: events 5.. run again, nothing earlier."""
    topic = _handled(svc, events=10, committed=9)

    plan = replay.plan(broker, resolve(broker, svc.name), AtTime(BASE_MS + 4500))
    replay.apply(broker, plan)

    assert [(m.current, m.new) for m in plan.moves] == [(9, 5)]
    assert _reprocessed(broker, svc, topic) == list(range(5, 10))


def test_replay_to_offsets_and_shift_clamp_to_what_exists(broker: Broker, svc: Svc) -> None:
    """--to-offset moves only the named partition; --shift-by past the start stops at 0."""
    topic = _handled(svc, events=6, committed=6)
    topology = resolve(broker, svc.name)

    to_three = replay.plan(broker, topology, AtOffsets({0: 3}))
    far_back = replay.plan(broker, topology, ShiftBy(-100))

    assert [(m.current, m.new) for m in to_three.moves] == [(6, 3)]
    assert [(m.new, m.reprocess) for m in far_back.moves] == [(0, 6)]
    assert far_back.moves[0].note
    assert broker.committed(svc.name) == {(topic, 0): 6}


def test_replay_during_a_replay_keeps_the_first_window(broker: Broker, svc: Svc) -> None:
    """Replaying again before catching up keeps the window's end: events handled before the
    first replay still count as replayed."""
    topic = _handled(svc, events=10, committed=8)
    topology = resolve(broker, svc.name)
    replay.apply(broker, replay.plan(broker, topology, Earliest()))
    svc.commit({(topic, 0): 3})

    replay.apply(broker, replay.plan(broker, topology, Earliest()))

    assert replay.recorded_windows(broker, svc.name).windows == {(topic, 0): (0, 8)}
