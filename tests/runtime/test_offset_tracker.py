"""The offset tracker commits only the contiguous prefix of completed offsets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.runtime.offsets import OffsetTracker


@st.composite
def fetched_and_completion_order(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    gaps = draw(st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=60))
    start = draw(st.integers(min_value=0, max_value=1_000))
    offsets = [start + sum(gaps[: i + 1]) for i in range(len(gaps))]
    completed = draw(st.permutations(offsets))
    cut = draw(st.integers(min_value=0, max_value=len(completed)))
    return offsets, list(completed[:cut])


@given(fetched_and_completion_order())
def test_position_never_passes_an_incomplete_offset(case: tuple[list[int], list[int]]) -> None:
    offsets, completed = case
    tracker = OffsetTracker()
    for offset in offsets:
        tracker.track(offset)
    done: set[int] = set()
    for offset in completed:
        tracker.complete(offset)
        done.add(offset)
        position = tracker.position
        if position is not None:
            assert all(o in done for o in offsets if o < position)
            # and it is the furthest such point: the next fetched offset is not done
            later = [o for o in offsets if o >= position]
            assert not later or later[0] not in done


@given(fetched_and_completion_order())
def test_all_completed_means_position_after_last(case: tuple[list[int], list[int]]) -> None:
    offsets, _ = case
    tracker = OffsetTracker()
    for offset in offsets:
        tracker.track(offset)
    for offset in reversed(offsets):
        tracker.complete(offset)
    assert tracker.position == offsets[-1] + 1
    assert tracker.pending == 0


def test_nothing_completed_has_no_position() -> None:
    tracker = OffsetTracker()
    tracker.track(5)
    tracker.track(6)
    tracker.complete(6)
    assert tracker.position is None
    assert tracker.pending == 2


def test_offsets_must_be_tracked_in_order() -> None:
    tracker = OffsetTracker()
    assert tracker.track_if_new(0)
    assert not tracker.track_if_new(0)  # fetched again after a seek: not tracked twice
    tracker.track(5)
    with pytest.raises(ValueError, match="tracked after"):
        tracker.track(5)


def test_completing_twice_or_unknown_offsets_changes_nothing() -> None:
    tracker = OffsetTracker()
    for offset in (1, 2, 3):
        tracker.track(offset)
    assert tracker.complete(1)
    assert not tracker.complete(1)
    assert not tracker.complete(0)
    assert tracker.position == 2


@given(fetched_and_completion_order())
def test_unfinished_counts_exactly_the_tracked_offsets_not_completed(
    case: tuple[list[int], list[int]],
) -> None:
    """What waits in a partition counts the fetched offsets not completed, those completed
    ahead of an older one excluded; the oldest of them is the first unfinished one."""
    offsets, completed = case
    tracker = OffsetTracker()
    for offset in offsets:
        tracker.track(offset)
    for offset in completed:
        tracker.complete(offset)

    left = sorted(set(offsets) - set(completed))
    assert tracker.unfinished == len(left)
    assert tracker.oldest_unfinished == (left[0] if left else None)
