"""A partition's waiting events and their age, as the consuming process reckons them from its
position, its unfinished fetched events and the runs they were fetched in."""

from __future__ import annotations

from conveyor.runtime import lag
from conveyor.runtime.work import PartitionState


def test_markers_after_the_position_do_not_wait() -> None:
    """Events 0-4 handled; librdkafka's position passed the marker at 5: nothing waits,
    though the commit position (5) stands one offset before the end (6)."""
    state = PartitionState("t", 0)
    for offset in range(5):
        state.tracker.track(offset)
        state.tracker.complete(offset)

    assert state.tracker.position == 5
    assert lag.waiting(state, position=6, end=6) == 0


def test_unfetched_and_unfinished_events_wait() -> None:
    """Fetched 10-13 with 11 finished ahead of 10, position 14, end 20: 3 fetched and 6 more
    wait; finished events behind an unfinished one do not."""
    state = PartitionState("t", 0)
    for offset in range(10, 14):
        state.tracker.track(offset)
    state.tracker.complete(11)

    assert lag.waiting(state, position=14, end=20) == 3 + 6


def test_the_oldest_unfinished_event_is_aged_by_its_run() -> None:
    """Runs fetched at offsets 0 (t=1000), 3 (t=2000) and 6 (t=3000): while 4 is the oldest
    unfinished, its run's timestamp stands for it and the run before is forgotten; once all is
    finished, there is no age and no run is kept."""
    state = PartitionState("t", 0)
    state.runs.extend([(0, 1000), (3, 2000), (6, 3000)])
    for offset in range(8):
        state.tracker.track(offset)
    for offset in range(4):
        state.tracker.complete(offset)

    assert lag.oldest_timestamp(state) == 2000
    assert list(state.runs) == [(3, 2000), (6, 3000)]
    for offset in range(4, 8):
        state.tracker.complete(offset)
    assert lag.oldest_timestamp(state) is None
    assert not state.runs
