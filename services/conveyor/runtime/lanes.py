"""The poll loop's side of priority lanes: which lanes have events waiting in this process, and
holding the lower ones back through `LaneGate`.

A lane has events waiting when one of its partitions owned here has events not yet fetched
(the cached high watermark past the consumer's position, which librdkafka moves past transaction
markers) or fetched and unfinished. Reading that costs no request: positions and cached
watermarks are the client's own, the watermark refreshed by every fetch response, so an urgent
event is seen waiting before the loop consumes the lower lanes' events fetched with it (pausing
them drops those from the client's queue; they are fetched again when the lane resumes).

A partition of a higher lane that had nothing waiting at the last look and has events now is
where events arrived: a lower lane in its share steps aside for them (see `LaneGate`).

A consumer reading lanes fetches in small steps (`lane_fetching`): an urgent event arriving while
a lower lane is fetched waits for the fetch in flight (one per broker) and is queued behind what
it brought, and whatever the client prefetched of a lane is dropped when the lane is held back.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import structlog
from confluent_kafka import KafkaException, TopicPartition

from conveyor import logs
from conveyor.lanes.gate import LaneGate
from conveyor.lanes.model import Lanes, LaneTopic, lane_topics
from conveyor.runtime import lag
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.work import PartitionState

LANE_FETCH_BYTES = 32 * 1024  # per partition and fetch: a few hundred events
LANE_FETCH_BACKOFF_MS = 5  # a partition's prefetch full: fetch it again this soon (not 1 s)


def lane_fetching(max_pending: int) -> dict[str, Any]:
    """librdkafka settings of a consumer reading lanes, over `consumer_config`'s: small fetches,
    and no more prefetched per partition than its pending bound (`max_pending`), which it could
    not take anyway."""
    return {
        "max.partition.fetch.bytes": LANE_FETCH_BYTES,
        "queued.min.messages": max_pending,
        "fetch.queue.backoff.ms": LANE_FETCH_BACKOFF_MS,
    }


def service_lanes(
    declared_topics: list[str], lanes: Mapping[str, Lanes], topic_map: Mapping[str, str]
) -> dict[str, tuple[LaneTopic, Lanes]]:
    """The lane topics of the service's `declared_topics` that have lanes, by actual name."""
    mine = {name: spec for name, spec in lanes.items() if name in declared_topics}
    return {
        topic: (lane, mine[declared])
        for declared in mine
        for topic, lane in lane_topics({declared: mine[declared]}, topic_map).items()
    }


class LaneServing:
    """Tells the gate which lanes wait, each loop step; the assignments pause what it holds."""

    def __init__(
        self, service: str, lanes: Mapping[str, tuple[LaneTopic, Lanes]], metrics: RuntimeMetrics
    ) -> None:
        self.gate = LaneGate(lanes)
        self._lowest = {topic: len(spec.names) - 1 for topic, (_, spec) in lanes.items()}
        self._gauges = {
            topic: metrics.lane_held.labels(service, topic, lane.lane)
            for topic, (lane, _) in lanes.items()
        }
        self._log = structlog.get_logger("conveyor.runtime").bind(service=service)
        # where each owned partition of a lane starts and ends at assignment:
        # until the consumer has read from it, its position and cached watermark are unknown,
        # and a backlog there must hold the lower lanes back from the first fetch on
        self._starts: dict[tuple[str, int], tuple[int, int]] = {}
        self._tracked: dict[PartitionState, int | None] = {}  # last offset fetched, per partition
        self._busy: set[PartitionState] = set()  # lane partitions with events waiting, last look

    @property
    def share_every(self) -> int:
        """Every how many handler slots one goes to a lower lane: the smallest share's."""
        share = min((spec.share for _, spec in self.gate.lanes.values()), default=0.1)
        return max(2, round(1 / share))

    @property
    def ranks(self) -> int:
        """How many lanes the widest of the service's topics has (1 without lanes)."""
        return max(self._lowest.values(), default=0) + 1

    def rank(self, topic: str) -> int:
        return self.gate.rank(topic)

    def by_rank(self, messages: list[Any]) -> list[list[Any]]:
        """Fetched `messages` by lane, the highest first, each lane's in the order fetched."""
        runs: dict[int, list[Any]] = {}
        rank = self.gate.rank
        for message in messages:
            runs.setdefault(rank(message.topic()), []).append(message)
        return [runs[n] for n in sorted(runs)]

    def _above_lowest(self, topic: str) -> bool:
        return self.gate.rank(topic) < self._lowest[topic]

    def held(self, topic: str) -> bool:
        return topic in self.gate.held

    def fetching_outstanding(self, states: list[PartitionState]) -> int:
        """Events out with the dispatcher of the partitions not held back: those held back fetch
        nothing, so waiting for their handlers would only keep an urgent event waiting."""
        held = self.gate.held
        return sum(state.outstanding for state in states if state.topic not in held)

    def assigned(self, consumer: Any, states: list[PartitionState], timeout: float) -> None:
        """Learn where the newly assigned partitions of lanes start (their committed offsets,
        else their first ones) and end."""
        laned = [s for s in states if s.topic in self._lowest]
        if not laned:
            return
        tps = [TopicPartition(s.topic, s.partition) for s in laned]
        try:
            for tp in consumer.committed(tps, timeout=timeout):
                low, high = consumer.get_watermark_offsets(tp, timeout=timeout)
                start = tp.offset if tp.offset >= 0 else low
                self._starts[(tp.topic, tp.partition)] = (start, high)
        except KafkaException:
            return  # unknown until the consumer reads the partition: it may hold nothing back

    def revoked(self, states: list[PartitionState]) -> None:
        for state in states:
            self._starts.pop((state.topic, state.partition), None)

    def _fetched(self, states: list[PartitionState]) -> set[str]:
        """The lane topics that fetched events since the last look."""
        fetched = set()
        tracked = self._tracked
        for state in states:
            last = state.tracker.last_tracked
            if tracked.get(state, last) != last:
                fetched.add(state.topic)
            tracked[state] = last
        if len(tracked) > len(states):
            for gone in set(tracked) - set(states):
                del tracked[gone]
        return fetched

    def update(self, consumer: Any, states: list[PartitionState]) -> bool:
        """Work out the lanes to hold back now; True when that changed."""
        laned = [s for s in states if s.topic in self._lowest]
        busy = {s for s in laned if s.tracker.unfinished}  # partitions with events waiting
        waiting = {s.topic for s in busy}
        # each partition of a lane with one below it (events arriving there make the lower lanes
        # step aside), and of the lowest lanes those not yet known to wait
        unknown = [
            s
            for s in laned
            if s not in busy and (s.topic not in waiting or self._above_lowest(s.topic))
        ]
        if unknown:
            tps = [TopicPartition(s.topic, s.partition) for s in unknown]
            for state, tp in zip(unknown, consumer.position(tps), strict=True):
                start, first_end = self._starts.get((tp.topic, tp.partition), (-1, -1))
                position = tp.offset if tp.offset >= 0 else start
                _low, end = consumer.get_watermark_offsets(tp, cached=True) or (-1, -1)
                end = end if end >= 0 else first_end
                if position >= 0 and end >= 0 and lag.waiting(state, position, end):
                    waiting.add(state.topic)
                    busy.add(state)
        before, self._busy = self._busy, busy
        arrived = {s.topic for s in busy if s not in before and self._above_lowest(s.topic)}
        changed = self.gate.update(waiting, time.monotonic(), self._fetched(states), arrived)
        if changed:
            for topic, gauge in self._gauges.items():
                gauge.set(1 if topic in self.gate.held else 0)
            self._log.debug(logs.LANES_HELD, held=sorted(self.gate.held), waiting=sorted(waiting))
        return changed
