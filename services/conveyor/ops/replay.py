"""Replay: move a stopped service's committed offsets, planned first, applied on request.

A plan is pure data (per partition: committed offset now, offset after, events to process
again). Applying it records the replay windows (`conveyor.replay`, which the service reads when
it starts), then moves the offsets; the broker itself also refuses to move the offsets of a group
that has members.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from confluent_kafka import KafkaException, Producer

from conveyor import logs, naming
from conveyor.clients import KafkaUnavailableError, TopicReadError, kafka_error_of
from conveyor.log_output import ops_log as log
from conveyor.ops.broker import TP, Broker
from conveyor.ops.errors import GroupActiveError, KafkaOperationError, ReplayTargetError
from conveyor.ops.reader import peek
from conveyor.ops.topology import ServiceTopology
from conveyor.replay import ReplayWindows
from conveyor.replay import load as load_windows


@dataclass(frozen=True)
class Earliest:
    def describe(self) -> str:
        return "the earliest offsets"


@dataclass(frozen=True)
class Latest:
    def describe(self) -> str:
        return "the latest offsets (skipping what waits)"


@dataclass(frozen=True)
class AtTime:
    epoch_ms: int

    def describe(self) -> str:
        return f"the first events at or after {self.epoch_ms} (epoch ms)"


@dataclass(frozen=True)
class AtOffsets:
    offsets: Mapping[int, int]  # partition -> offset; other partitions stay where they are

    def describe(self) -> str:
        return "offsets " + ", ".join(f"{p}:{o}" for p, o in sorted(self.offsets.items()))


@dataclass(frozen=True)
class ShiftBy:
    delta: int

    def describe(self) -> str:
        return f"the committed offsets shifted by {self.delta:+d}"


Target = Earliest | Latest | AtTime | AtOffsets | ShiftBy


@dataclass(frozen=True)
class Move:
    """One partition in a plan. `current` is None where the group never committed (it would
    start from the earliest record)."""

    topic: str
    partition: int
    current: int | None
    new: int
    low: int
    end: int
    note: str = ""

    @property
    def tp(self) -> TP:
        return (self.topic, self.partition)

    @property
    def reprocess(self) -> int:
        """Events handled again (negative: events skipped)."""
        return (self.current if self.current is not None else self.low) - self.new

    @property
    def changes(self) -> bool:
        return self.current != self.new


@dataclass(frozen=True)
class ReplayPlan:
    service: str
    target: str
    moves: tuple[Move, ...]

    @property
    def reprocess(self) -> int:
        return sum(m.reprocess for m in self.moves)


def plan_as_dict(replay_plan: ReplayPlan) -> dict[str, Any]:
    """The JSON form of a plan, as `conveyor replay --json` prints it."""
    moves = [{**asdict(m), "reprocess": m.reprocess} for m in replay_plan.moves]
    return {"service": replay_plan.service, "target": replay_plan.target, "moves": moves}


def parse_offset(text: str) -> tuple[int, int]:
    """`<partition>:<offset>` (as `--to-offset` takes it) to a pair."""
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise ReplayTargetError(f"{text!r}: use <partition>:<offset>, e.g. 0:1200")
    return int(partition), int(offset)


def plan(
    broker: Broker,
    topology: ServiceTopology,
    target: Target,
    topics: Sequence[str] = (),
    partitions: Sequence[int] = (),
) -> ReplayPlan:
    """The moves `target` means for the service's input topics (or `topics`)."""
    chosen = _topics(broker, topology, topics)
    if isinstance(target, AtOffsets) and len(chosen) > 1:
        raise ReplayTargetError(
            f"--to-offset names partitions, but {topology.service} reads {', '.join(chosen)}: "
            "say which with --topic"
        )
    parts = [tp for topic in chosen for tp in broker.partitions(topic)]
    if partitions:
        unknown = sorted(set(partitions) - {p for _, p in parts})
        if unknown:
            raise ReplayTargetError(f"no partition {unknown} in {', '.join(chosen)}")
        parts = [tp for tp in parts if tp[1] in partitions]
    if isinstance(target, AtOffsets):
        missing = sorted(set(target.offsets) - {p for _, p in parts})
        if missing:
            raise ReplayTargetError(f"--to-offset names partition(s) {missing} not in the plan")
        parts = [tp for tp in parts if tp[1] in target.offsets]
    committed = broker.committed(topology.group)
    marks = broker.watermarks(parts)
    at_time = broker.offsets_for_time(parts, target.epoch_ms) if isinstance(target, AtTime) else {}
    moves = []
    for tp in parts:
        low, end = marks[tp]
        current = committed.get(tp)
        now = Move(tp[0], tp[1], current, current if current is not None else low, low, end)
        wanted = _wanted(target, now, at_time)
        new = min(max(wanted, low), end)
        note = "" if new == wanted else f"{wanted} is outside {low}..{end}"
        moves.append(replace(now, new=new, note=note))
    return ReplayPlan(topology.service, target.describe(), tuple(moves))


def ensure_stopped(broker: Broker, group: str) -> None:
    """`GroupActiveError`, naming the members, unless the group has none."""
    info = broker.describe_group(group)
    if info.members:
        raise GroupActiveError(group, [m.describe() for m in info.members])


def apply(broker: Broker, replay_plan: ReplayPlan) -> None:
    """Record the replay windows, then move the offsets (only where they change)."""
    changes = [m for m in replay_plan.moves if m.changes]
    if not changes:
        return
    ensure_stopped(broker, replay_plan.service)
    windows = recorded_windows(broker, replay_plan.service)
    _record(broker, windows.merged({m.tp: (m.new, m.current) for m in changes}))
    broker.alter_offsets(replay_plan.service, {m.tp: m.new for m in changes})
    log.info(
        logs.REPLAY_APPLIED,
        service=replay_plan.service,
        target=replay_plan.target,
        partitions=len(changes),
        reprocess=replay_plan.reprocess,
    )


def recorded_windows(broker: Broker, group: str) -> ReplayWindows:
    """The group's replay windows as recorded now (none when it was never replayed)."""
    try:
        return load_windows(broker.client_config(), group, broker.timeout)
    except KafkaUnavailableError as error:
        raise KafkaOperationError("loading the replay windows", error.last) from error
    except TopicReadError as error:
        raise KafkaOperationError("loading the replay windows", error.error) from error
    except KafkaException as error:
        raise KafkaOperationError("loading the replay windows", kafka_error_of(error)) from error


def _record(broker: Broker, windows: ReplayWindows) -> None:
    broker.ensure_compacted_topic(naming.REPLAYS_TOPIC)
    producer = Producer(broker.client_config(**{"acks": "all", "enable.idempotence": True}))
    failures: list[object] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failures.append(error)

    producer.produce(
        naming.REPLAYS_TOPIC,
        key=windows.group.encode(),
        value=windows.to_json(),
        on_delivery=delivered,
    )
    if producer.flush(broker.timeout) > 0 or failures:
        cause = failures[0] if failures else "not confirmed in time"
        raise KafkaOperationError("recording the replay window", cause)


def follow(
    broker: Broker,
    replay_plan: ReplayPlan,
    on_progress: Callable[[int, int], None],
    interval: float = 1.0,
) -> None:
    """Report `(processed, total)` until the group has again reached the ends the partitions
    had when the plan was made."""
    goal = {m.tp: m.end for m in replay_plan.moves}
    start = {m.tp: m.new for m in replay_plan.moves}
    total = sum(max(0, goal[tp] - start[tp]) for tp in goal)
    while True:
        committed = broker.committed(replay_plan.service)
        behind = {tp: committed.get(tp, start[tp]) for tp in goal}
        behind = {tp: o for tp, o in behind.items() if o < goal[tp]}
        readable = peek(broker, behind)
        left = {tp: o for tp, o in behind.items() if readable.get(tp) is not None}
        done = total - sum(goal[tp] - o for tp, o in left.items())
        on_progress(max(0, done), total)
        if not left:
            return
        time.sleep(interval)


def _topics(broker: Broker, topology: ServiceTopology, topics: Sequence[str]) -> list[str]:
    for topic in topics:
        broker.partitions(topic)  # TopicNotFoundError for a topic the broker does not have
        if topic not in topology.consumed:
            raise ReplayTargetError(
                f"service {topology.service!r} does not read {topic!r} "
                f"(it reads {', '.join(topology.consumed) or 'nothing yet'})"
            )
    chosen = list(topics) or list(topology.inputs)
    if not chosen:
        raise ReplayTargetError(
            f"service {topology.service!r} has no input topic with committed offsets; "
            "name one with --topic"
        )
    return chosen


def _wanted(target: Target, now: Move, at_time: Mapping[TP, int | None]) -> int:
    """Where `target` puts the partition before clamping; `now` is where it stands."""
    match target:
        case Earliest():
            return now.low
        case Latest():
            return now.end
        case AtTime():
            found = at_time.get(now.tp)
            return now.end if found is None else found
        case AtOffsets(offsets=offsets):
            return offsets[now.partition]
        case ShiftBy(delta=delta):
            return now.new + delta
