"""The dead-letter circuit breaker, the rate limiter and the parked-keys view, without a broker."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.deadletter.breaker import BreakerPolicy, BreakerState, DeadLetterBreaker
from conveyor.parking import ParkedKey, ParkedKeys
from conveyor.ratelimit import RateLimit, RateLimiter


def test_breaker_opens_on_a_run_of_consecutive_dead_letters() -> None:
    """The fifth dead letter in a row opens it, and says why."""
    breaker = DeadLetterBreaker(BreakerPolicy(max_consecutive=5, window=100, min_outcomes=100))
    opened = [breaker.record(dead_lettered=True) for _ in range(5)]
    assert opened == [False, False, False, False, True]
    assert breaker.state is BreakerState.OPEN
    assert breaker.reason is not None
    assert "5 consecutive" in breaker.reason


def test_breaker_opens_when_the_share_of_dead_letters_crosses_its_threshold() -> None:
    """Alternating failures never make a long run but do cross a 40% share."""
    breaker = DeadLetterBreaker(
        BreakerPolicy(max_consecutive=10, max_share=0.4, window=20, min_outcomes=10)
    )
    outcomes = [i % 2 == 0 for i in range(10)]  # never two dead letters in a row
    opened = [breaker.record(dead_lettered) for dead_lettered in outcomes]
    assert opened == [False] * 9 + [True]  # judged from the 10th outcome on: 5/10 > 40%
    assert breaker.reason is not None
    assert "50%" in breaker.reason


def test_breaker_stays_closed_on_a_healthy_stream_with_rare_failures() -> None:
    """One dead letter in fifty never opens it."""
    breaker = DeadLetterBreaker(BreakerPolicy(max_consecutive=3, max_share=0.1, window=100))
    for i in range(5000):
        breaker.record(dead_lettered=i % 50 == 0)
    assert breaker.state is BreakerState.CLOSED


@given(st.lists(st.booleans(), max_size=400))
def test_breaker_share_matches_the_window(outcomes: list[bool]) -> None:
    """The share it judges is the dead letters among the last `window` outcomes."""
    breaker = DeadLetterBreaker(
        BreakerPolicy(window=50, min_outcomes=50, max_consecutive=1000, max_share=1.0)
    )
    for outcome in outcomes:
        breaker.record(outcome)
    last = outcomes[-50:]
    assert breaker.share() == (sum(last) / len(last) if last else 0.0)


def test_breaker_reset_closes_it() -> None:
    """An operator's reset closes the breaker and forgets the history."""
    breaker = DeadLetterBreaker(BreakerPolicy(max_consecutive=1, min_outcomes=1))
    breaker.record(dead_lettered=True)
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.share() == 0.0


def test_limiter_lets_max_events_through_per_window_then_says_how_long_to_wait() -> None:
    """max=3 per 1 s: three pass, the fourth waits for the window to end."""
    limiter = RateLimiter(RateLimit(max=3, duration=1.0))
    assert [limiter.acquire(10.0), limiter.acquire(10.1), limiter.acquire(10.2)] == [0.0] * 3
    assert limiter.acquire(10.25) == pytest.approx(0.75)
    assert limiter.limited == 1
    assert limiter.acquire(11.0) == 0.0


@given(st.lists(st.floats(min_value=0, max_value=0.05), min_size=1, max_size=500))
def test_limiter_never_lets_more_than_max_per_duration_over_a_span(gaps: list[float]) -> None:
    """Whatever the arrival pattern, over a span S at most max * (S / duration + 1) pass."""
    limiter = RateLimiter(RateLimit(max=5, duration=0.5))
    now, admitted = 0.0, []
    for gap in gaps:
        now += gap
        if limiter.acquire(now) == 0.0:
            admitted.append(now)
    span = admitted[-1] - admitted[0]
    assert len(admitted) <= 5 * (span / 0.5 + 1)


def test_rate_limit_is_validated() -> None:
    """A limit needs a positive max and duration."""
    with pytest.raises(ValueError, match="max"):
        RateLimit(max=0, duration=1)


def test_parked_keys_are_tracked_per_partition_and_forgotten_on_revoke() -> None:
    """A key parked on one partition does not block the same key bytes on another topic."""
    keys = ParkedKeys()
    keys.add(ParkedKey("order.events", 1, b"o-1", behind="e-1", parked_at_ms=5))
    assert keys.get("order.events", 1, b"o-1") is not None
    assert keys.get("order.events", 1, b"o-2") is None
    assert keys.get("other", 1, b"o-1") is None
    assert len(keys) == 1
    keys.forget([("order.events", 1)])
    assert keys.get("order.events", 1, b"o-1") is None
    assert len(keys) == 0
