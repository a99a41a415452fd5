"""What each owned partition still has to handle, as the consuming process sees it.

Waiting events are those after the consumer's position (what it has not fetched yet) plus the
fetched ones not yet finished. librdkafka moves the position past transaction markers and
aborted records as it reads them, so a partition whose last offsets are markers reaches 0 once
its events are handled; high watermark minus committed offset would count the markers forever.

Their age is that of the oldest unfinished fetched event, taken from the first event of the
fetched run it came in (`PartitionState.runs`: one timestamp per partition per poll batch rather
than one per event, so a reading is older by at most the span of one batch). Events not yet
fetched have no age here: the process fetches ahead of its handlers, and while it holds none of a
partition's events its next ones are on their way (`conveyor status` reads their age from the
broker).
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import TopicPartition

from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.work import PartitionState


def waiting(state: PartitionState, position: int, end: int) -> int:
    """Events of `state` still to handle: not fetched before `end`, or fetched and unfinished."""
    return max(0, end - position) + state.tracker.unfinished


def oldest_timestamp(state: PartitionState) -> int | None:
    """The timestamp (ms) standing for the oldest unfinished event of `state`, or None when
    every fetched event is finished; forgets the runs that are over."""
    oldest = state.tracker.oldest_unfinished
    runs = state.runs
    if oldest is None:
        runs.clear()
        return None
    while len(runs) > 1 and runs[1][0] <= oldest:
        runs.popleft()
    return runs[0][1] if runs else None


def record(
    metrics: RuntimeMetrics, consumer: Any, states: list[PartitionState], now_ms: int
) -> None:
    """Set `conveyor_partition_lag` and `conveyor_partition_lag_seconds` for `states`."""
    if not states:
        return
    tps = [TopicPartition(state.topic, state.partition) for state in states]
    for state, tp in zip(states, consumer.position(tps), strict=True):
        # Nothing consumed since the assignment: the position is not known yet, the commit is.
        position = tp.offset if tp.offset >= 0 else state.committed
        _low, end = consumer.get_watermark_offsets(tp, cached=True) or (-1, -1)
        if position is None or end < 0:
            continue
        labels = (metrics.service, state.topic, str(state.partition))
        metrics.lag.labels(*labels).set(waiting(state, position, end))
        oldest = oldest_timestamp(state)
        age = 0.0 if oldest is None else max(0.0, (now_ms - oldest) / 1000)
        metrics.lag_seconds.labels(*labels).set(age)
