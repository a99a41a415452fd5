"""The key scheduler never overlaps or reorders same-key items and respects max_in_flight."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.runtime.scheduler import KeyScheduler


@given(
    keys=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=120),
    max_in_flight=st.integers(min_value=1, max_value=5),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_same_key_items_never_overlap_or_reorder(
    keys: list[int], max_in_flight: int, seed: int
) -> None:
    rng = random.Random(seed)
    scheduler: KeyScheduler[tuple[int, int]] = KeyScheduler(max_in_flight)
    running: list[tuple[int, int]] = []
    started: dict[int, list[int]] = defaultdict(list)

    def start(items: Sequence[tuple[int, int]]) -> None:
        for key, seq in items:
            assert all(k != key for k, _ in running), "same key started while running"
            running.append((key, seq))
            started[key].append(seq)
        assert len(running) <= max_in_flight

    pending = list(enumerate(keys))
    while pending or running:
        if pending and (not running or rng.random() < 0.6):
            seq, key = pending.pop(0)
            start(scheduler.offer(key, (key, seq)))
        else:
            key, seq = running.pop(rng.randrange(len(running)))
            start(scheduler.finish(key))
    assert scheduler.queued == 0
    assert scheduler.in_flight == 0
    for key, seqs in started.items():
        assert seqs == sorted(seqs)
        assert seqs == [seq for seq, k in enumerate(keys) if k == key]


@given(
    keys=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=60),
    dropped_key=st.integers(min_value=0, max_value=4),
)
def test_discard_removes_only_queued_items(keys: list[int], dropped_key: int) -> None:
    scheduler: KeyScheduler[tuple[int, int]] = KeyScheduler(2)
    running = [item for seq, key in enumerate(keys) for item in scheduler.offer(key, (key, seq))]
    removed = scheduler.discard(lambda item: item[0] == dropped_key)
    assert all(key == dropped_key for key, _ in removed)
    assert not set(removed) & set(running)
    remaining_started: list[tuple[int, int]] = []
    queue = list(running)
    while queue:
        key, _ = queue.pop(0)
        later = scheduler.finish(key)
        remaining_started.extend(later)
        queue.extend(later)
    everything = set(running) | set(remaining_started) | set(removed)
    assert everything == {(key, seq) for seq, key in enumerate(keys)}


def test_different_keys_run_concurrently_up_to_the_bound() -> None:
    scheduler: KeyScheduler[str] = KeyScheduler(2)
    assert scheduler.offer("a", "a1") == ["a1"]
    assert scheduler.offer("b", "b1") == ["b1"]
    assert scheduler.offer("c", "c1") == []
    assert scheduler.offer("a", "a2") == []
    assert scheduler.finish("b") == ["c1"]
    assert scheduler.finish("a") == ["a2"]


def test_max_in_flight_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        KeyScheduler(0)
