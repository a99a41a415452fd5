"""The key scheduler never overlaps or reorders same-key items and respects max_in_flight."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.runtime.key_scheduler import KeyScheduler


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
            item = (key, seq)
            start([item] if scheduler.offer(key, item) else [])
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
    running = [(key, seq) for seq, key in enumerate(keys) if scheduler.offer(key, (key, seq))]
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
    for key in set(keys):
        of_key = [seq for k, seq in remaining_started if k == key]
        assert of_key == sorted(of_key), "what is left of a key still runs in arrival order"
    assert scheduler.queued == 0
    assert scheduler.in_flight == 0


def test_different_keys_run_concurrently_up_to_the_bound() -> None:
    scheduler: KeyScheduler[str] = KeyScheduler(2)
    assert scheduler.offer("a", "a1")
    assert scheduler.offer("b", "b1")
    assert not scheduler.offer("c", "c1")
    assert not scheduler.offer("a", "a2")
    assert scheduler.finish("b") == ["c1"]
    assert scheduler.finish("a") == ["a2"]


def test_max_in_flight_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        KeyScheduler(0)


@given(
    operations=st.lists(
        st.tuples(st.sampled_from(["offer", "offer", "finish", "discard"]), st.integers(0, 3)),
        max_size=150,
    ),
    max_in_flight=st.integers(min_value=1, max_value=2),
)
def test_offers_finishes_and_discards_in_any_order_keep_each_key_in_order(
    operations: list[tuple[str, int]], max_in_flight: int
) -> None:
    """Discards between offers and finishes: whatever is not discarded still starts exactly
    once, never beside its key's other items, in arrival order, within the bound."""
    scheduler: KeyScheduler[tuple[int, int]] = KeyScheduler(max_in_flight)
    running: dict[int, int] = {}  # key -> seq of its running item
    started: list[tuple[int, int]] = []
    discarded: set[tuple[int, int]] = set()
    offered: list[tuple[int, int]] = []

    def start(items: Sequence[tuple[int, int]]) -> None:
        for key, seq in items:
            assert key not in running, "same key started while running"
            running[key] = seq
            started.append((key, seq))
        assert len(running) <= max_in_flight

    def of_key(key: int) -> Callable[[tuple[int, int]], bool]:
        return lambda item: item[0] == key

    def finish(key: int) -> None:
        del running[key]
        start(scheduler.finish(key))

    for seq, (operation, key) in enumerate(operations):
        if operation == "offer":
            offered.append((key, seq))
            start([(key, seq)] if scheduler.offer(key, (key, seq)) else [])
        elif operation == "finish" and key in running:
            finish(key)
        elif operation == "discard":
            removed = scheduler.discard(of_key(key))
            assert all(item[0] == key for item in removed)
            assert not set(removed) & set(started), "a started item cannot be discarded"
            discarded.update(removed)
    while running:
        finish(next(iter(running)))

    assert scheduler.queued == 0
    assert scheduler.in_flight == 0
    assert sorted(started) == sorted(set(offered) - discarded), "each other item starts once"
    for key in range(4):
        seqs = [seq for k, seq in started if k == key]
        assert seqs == sorted(seqs)
