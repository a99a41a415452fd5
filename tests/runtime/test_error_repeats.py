"""A consumer error repeated every poll during an outage is logged once, then at most once per
interval with how many were held back (`conveyor.log_output.Repeats`)."""

from __future__ import annotations

from conveyor.log_output import Repeats


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_error_goes_out_then_one_per_interval_with_the_count_held_back() -> None:
    clock = Clock()
    repeats = Repeats(10.0, clock)

    first = repeats.admit("_TRANSPORT")
    held = []
    for _ in range(50):  # a poll every 0.1 s for 5 s
        clock.now += 0.1
        held.append(repeats.admit("_TRANSPORT"))
    clock.now = 110.0  # 10 s after the first
    after_interval = repeats.admit("_TRANSPORT")

    assert first == 0
    assert held == [None] * 50
    assert after_interval == 50
    assert repeats.admit("_TRANSPORT") is None


def test_each_kind_of_error_has_its_own_interval() -> None:
    clock = Clock()
    repeats = Repeats(10.0, clock)

    assert repeats.admit("_TRANSPORT") == 0
    assert repeats.admit("_ALL_BROKERS_DOWN") == 0
    assert repeats.admit("_TRANSPORT") is None
    clock.now += 10.0
    assert repeats.admit("_ALL_BROKERS_DOWN") == 0
    assert repeats.admit("_TRANSPORT") == 1
