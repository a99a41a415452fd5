"""Backoff schedules and retry decisions, without a broker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.errors import ConveyorError
from conveyor.retry import (
    Backoff,
    BackoffKind,
    PermanentError,
    Retry,
    RetryPolicy,
    Verdict,
    compute_backoff,
)


def test_exponential_backoff_doubles_from_the_base_delay_like_bullmq() -> None:
    """BullMQ waits delay * 2^(n-1) after the n-th failure."""
    backoff = Backoff(delay=1.0, max_delay=1000)
    assert [compute_backoff(n, backoff) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]


def test_fixed_backoff_waits_the_same_each_time() -> None:
    """A fixed backoff ignores the attempt number."""
    backoff = Backoff(delay=2.5, kind=BackoffKind.FIXED)
    assert {compute_backoff(n, backoff) for n in range(1, 10)} == {2.5}


def test_backoff_is_capped() -> None:
    """The cap bounds the exponential, even for absurd attempt numbers."""
    backoff = Backoff(delay=1.0, max_delay=30.0)
    assert compute_backoff(6, backoff) == 30.0
    assert compute_backoff(10_000, backoff) == 30.0


@given(
    failures=st.integers(min_value=1, max_value=5000),
    delay=st.floats(min_value=0, max_value=100),
    cap=st.floats(min_value=0, max_value=3600),
    jitter=st.floats(min_value=0, max_value=1),
    draw=st.floats(min_value=0, max_value=1),
)
def test_jittered_backoff_stays_within_its_band(
    failures: int, delay: float, cap: float, jitter: float, draw: float
) -> None:
    """With jitter j the wait lies in [raw * (1 - j), raw], raw being the capped delay."""
    backoff = Backoff(delay=delay, max_delay=cap, jitter=jitter)
    raw = compute_backoff(failures, Backoff(delay=delay, max_delay=cap))
    waited = compute_backoff(failures, backoff, draw)
    assert raw * (1 - jitter) - 1e-9 <= waited <= raw + 1e-9


@given(failures=st.integers(min_value=1, max_value=60))
def test_exponential_backoff_never_shrinks(failures: int) -> None:
    """Each further failure waits at least as long as the one before."""
    backoff = Backoff(delay=0.1, max_delay=60)
    assert compute_backoff(failures + 1, backoff) >= compute_backoff(failures, backoff)


def test_invalid_backoffs_are_refused() -> None:
    """Negative delays, jitter outside [0, 1] and attempts below 1 are configuration errors."""
    with pytest.raises(ValueError, match="jitter"):
        Backoff(jitter=1.5)
    with pytest.raises(ValueError, match=">= 0"):
        Backoff(delay=-1)
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="count from 1"):
        compute_backoff(0, Backoff())


def test_policy_retries_until_attempts_run_out() -> None:
    """attempts=3 means the first try and two retries, then the dead letters."""
    policy = RetryPolicy(attempts=3, backoff=Backoff(delay=1.0))
    first = policy.decide(1, RuntimeError("boom"), draw=lambda: 1.0)
    second = policy.decide(2, RuntimeError("boom"), draw=lambda: 1.0)
    third = policy.decide(3, RuntimeError("boom"), draw=lambda: 1.0)
    assert (first.verdict, first.delay) == (Verdict.RETRY, 1.0)
    assert (second.verdict, second.delay) == (Verdict.RETRY, 2.0)
    assert third.verdict is Verdict.DEAD_LETTER
    assert third.reason == "attempts exhausted"


def test_permanent_error_goes_straight_to_the_dead_letters() -> None:
    """A PermanentError spends no further attempts."""
    decision = RetryPolicy(attempts=10).decide(1, PermanentError("card declined"))
    assert decision.verdict is Verdict.DEAD_LETTER
    assert decision.reason == "permanent"


def test_only_the_listed_exceptions_are_retried() -> None:
    """Exceptions outside `retry_on` dead-letter at once."""
    policy = RetryPolicy(attempts=5, retry_on=(TimeoutError,))
    assert policy.decide(1, TimeoutError()).retry
    assert policy.decide(1, KeyError("x")).verdict is Verdict.DEAD_LETTER


def test_retry_after_overrides_the_backoff_but_still_counts_as_an_attempt() -> None:
    """A handler raising Retry(after=...) waits that long, and cannot loop forever."""
    policy = RetryPolicy(attempts=2, retry_on=(TimeoutError,))
    decision = policy.decide(1, Retry(after=7.5))
    assert (decision.verdict, decision.delay) == (Verdict.RETRY, 7.5)
    assert policy.decide(2, Retry(after=7.5)).verdict is Verdict.DEAD_LETTER


def test_retry_control_errors_belong_to_the_conveyor_error_tree() -> None:
    """Both errors a handler raises on purpose derive from ConveyorError."""
    assert issubclass(PermanentError, ConveyorError)
    assert issubclass(Retry, ConveyorError)
    with pytest.raises(ValueError, match=">= 0"):
        Retry(after=-1)


def test_a_schedule_backoff_follows_the_declared_tier_delays() -> None:
    """Tier delays from the topology: 10 s, 1 min, 10 min, then the last one again."""
    policy = RetryPolicy.from_tiers([timedelta(seconds=10), timedelta(minutes=1), 600.0])
    assert policy.attempts == 4
    delays = [policy.decide(n, RuntimeError(), draw=lambda: 1.0).delay for n in (1, 2, 3)]
    assert delays == [10.0, 60.0, 600.0]
    assert policy.decide(4, RuntimeError()).verdict is Verdict.DEAD_LETTER
    assert compute_backoff(9, policy.backoff) == 600.0
    assert RetryPolicy.from_tiers([]).attempts == 1
    with pytest.raises(ValueError, match="schedule"):
        Backoff(kind=BackoffKind.SCHEDULE)
