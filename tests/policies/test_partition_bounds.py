"""When a partition pauses and resumes: pending work and the uncommitted span, without a broker."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.runtime.bounds import PartitionBounds
from conveyor.runtime.errors import RuntimeConfigError
from conveyor.runtime.settings import ServiceSettings

DEFAULTS = ServiceSettings()
BOUNDS = PartitionBounds(DEFAULTS.max_pending_per_partition, DEFAULTS.max_uncommitted_per_partition)


def test_a_retrying_head_with_finished_events_behind_it_does_not_fill_its_partition() -> None:
    """One event retrying in place and thousands of finished ones behind it: still fetching."""
    assert not BOUNDS.full(pending=1, uncommitted=5 * DEFAULTS.max_pending_per_partition)


def test_too_much_pending_work_or_too_long_an_uncommitted_span_fills_a_partition() -> None:
    assert BOUNDS.full(
        pending=DEFAULTS.max_pending_per_partition, uncommitted=DEFAULTS.max_pending_per_partition
    )
    assert BOUNDS.full(pending=1, uncommitted=DEFAULTS.max_uncommitted_per_partition)


def test_a_paused_partition_resumes_once_half_its_work_is_done_and_the_span_has_room() -> None:
    half = DEFAULTS.max_pending_per_partition // 2
    assert BOUNDS.drained(pending=half, uncommitted=5000)
    assert not BOUNDS.drained(pending=half + 1, uncommitted=0)
    assert not BOUNDS.drained(pending=0, uncommitted=DEFAULTS.max_uncommitted_per_partition - 1)


@given(
    max_pending=st.integers(1, 5000),
    extra=st.integers(0, 50_000),
    pending=st.integers(0, 60_000),
    finished=st.integers(0, 60_000),
)
def test_a_partition_just_resumed_is_never_full_at_once(
    max_pending: int, extra: int, pending: int, finished: int
) -> None:
    """The hysteresis: whatever the bounds, a drained partition is not full (no flapping)."""
    bounds = PartitionBounds(max_pending, max_pending + extra)
    uncommitted = pending + finished  # the span holds the pending events and finished ones
    if bounds.drained(pending, uncommitted):
        assert not bounds.full(pending, uncommitted)


def test_the_uncommitted_bound_is_read_from_the_environment_and_checked() -> None:
    env = {"CONVEYOR_MAX_UNCOMMITTED_PER_PARTITION": "50000"}
    assert ServiceSettings.from_env(env).max_uncommitted_per_partition == 50_000
    with pytest.raises(RuntimeConfigError, match="max_uncommitted_per_partition"):
        ServiceSettings(max_pending_per_partition=100, max_uncommitted_per_partition=99)
