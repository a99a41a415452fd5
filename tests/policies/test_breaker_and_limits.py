"""The dead-letter circuit breaker, the rate limiter and the parked-keys view, without a broker."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.deadletter.breaker import BreakerPolicy, BreakerState, DeadLetterBreaker
from conveyor.parking import ParkedKey, ParkedKeys
from conveyor.policies import PolicySettings
from conveyor.policies.errors import PolicyConfigError
from conveyor.ratelimit import RateLimit, RateLimiter


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_on_a_run_of_consecutive_dead_letters() -> None:
    """The fifth dead letter in a row, with no success in the window, opens it and says why."""
    breaker = DeadLetterBreaker(
        BreakerPolicy(max_consecutive=5, window_s=60, min_outcomes=100), clock=FakeClock()
    )
    opened = [breaker.record(dead_lettered=True) for _ in range(5)]
    assert opened == [False, False, False, False, True]
    assert breaker.state is BreakerState.OPEN
    assert breaker.reason is not None
    assert "5 consecutive" in breaker.reason


def test_breaker_opens_when_the_share_of_dead_letters_crosses_its_threshold() -> None:
    """Alternating failures never make a long run but do cross a 40% share."""
    breaker = DeadLetterBreaker(
        BreakerPolicy(max_consecutive=10, max_share=0.4, window_s=60, min_outcomes=10),
        clock=FakeClock(),
    )
    outcomes = [i % 2 == 0 for i in range(10)]  # never two dead letters in a row
    opened = [breaker.record(dead_lettered) for dead_lettered in outcomes]
    assert opened == [False] * 9 + [True]  # judged from the 10th outcome on: 5/10 > 40%
    assert breaker.reason is not None
    assert "50%" in breaker.reason


def test_breaker_stays_closed_on_a_healthy_stream_with_rare_failures() -> None:
    """One dead letter in fifty never opens it."""
    clock = FakeClock()
    breaker = DeadLetterBreaker(
        BreakerPolicy(max_consecutive=3, max_share=0.1, window_s=10), clock=clock
    )
    for i in range(5000):
        clock.now += 0.01
        breaker.record(dead_lettered=i % 50 == 0)
    assert breaker.state is BreakerState.CLOSED


def test_breaker_stays_closed_when_the_dead_letters_of_a_healthy_stream_complete_together() -> None:
    """Benchmark 5's pattern: 1% of events fail, their retries run out together while the other
    keys wait at their pending bound, so 60 dead letters complete in a row: that is no outage."""
    clock = FakeClock()
    breaker = DeadLetterBreaker(BreakerPolicy(), clock=clock)  # the defaults a service runs with
    for _ in range(6000):  # the first fetch wave: 1 s of successes
        clock.now += 1 / 6000
        breaker.record(dead_lettered=False)
    clock.now += 3.5  # paused at the pending bound while the failing events back off
    opened = [breaker.record(dead_lettered=True) for _ in range(60)]
    assert not any(opened)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.share() == pytest.approx(60 / 6060)


def test_breaker_opens_on_a_bad_deploy_after_the_minimum_count() -> None:
    """Every event failing from the start opens it on the min_outcomes-th dead letter."""
    clock = FakeClock()
    breaker = DeadLetterBreaker(
        BreakerPolicy(max_consecutive=1000, min_outcomes=50, window_s=60), clock=clock
    )
    opened = []
    for _ in range(80):
        clock.now += 0.05
        opened.append(breaker.record(dead_lettered=True))
    assert opened.index(True) == 49
    assert opened.count(True) == 1  # reported once, on the outcome that opened it
    assert breaker.reason is not None
    assert "100% of the 50 events" in breaker.reason


def test_breaker_opens_on_an_outage_once_the_earlier_successes_left_the_window() -> None:
    """Healthy for a while, then everything fails: it opens once the successes are older than
    the window, even if the share among few outcomes never reaches min_outcomes."""
    clock = FakeClock()
    breaker = DeadLetterBreaker(
        BreakerPolicy(max_consecutive=5, min_outcomes=1000, window_s=30), clock=clock
    )
    for _ in range(500):
        clock.now += 0.01
        breaker.record(dead_lettered=False)
    opened = []
    for _ in range(40):  # one dead letter a second: the run is long before the window clears
        clock.now += 1.0
        opened.append(breaker.record(dead_lettered=True))
    assert opened.index(True) == 30  # the first dead letter more than 30 s after the last success
    assert breaker.reason is not None
    assert "31 consecutive" in breaker.reason


def test_breaker_forgets_outcomes_older_than_the_window() -> None:
    """A burst of dead letters long ago does not count towards today's share."""
    clock = FakeClock()
    breaker = DeadLetterBreaker(
        BreakerPolicy(max_consecutive=1000, max_share=0.5, min_outcomes=10, window_s=30),
        clock=clock,
    )
    for _ in range(9):
        breaker.record(dead_lettered=True)
    clock.now += 31
    for _ in range(20):
        assert not breaker.record(dead_lettered=False)
    assert breaker.share() == 0.0
    assert not breaker.record(dead_lettered=True)  # 1 of 21: closed


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=5)), max_size=300))
def test_breaker_share_matches_the_window(outcomes: list[tuple[bool, int]]) -> None:
    """The share it judges is the dead letters among the outcomes of the last window_s seconds
    (whole seconds here, one bucket each)."""
    clock = FakeClock(0.0)
    breaker = DeadLetterBreaker(
        BreakerPolicy(window_s=30, min_outcomes=1, max_consecutive=1000, max_share=1.0),
        clock=clock,
    )
    timed = []
    for dead_lettered, step in outcomes:
        clock.now += step
        breaker.record(dead_lettered)
        timed.append((clock.now, dead_lettered))
    recent = [dead for at, dead in timed if at > clock.now - 30]
    assert breaker.share() == (sum(recent) / len(recent) if recent else 0.0)


def test_breaker_reset_closes_it() -> None:
    """An operator's reset closes the breaker and forgets the history."""
    breaker = DeadLetterBreaker(BreakerPolicy(max_consecutive=1, min_outcomes=1))
    breaker.record(dead_lettered=True)
    assert breaker.is_open
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.share() == 0.0


def test_breaker_policy_is_validated() -> None:
    """The window is a positive span of seconds and the share a fraction."""
    with pytest.raises(ValueError, match="window_s"):
        BreakerPolicy(window_s=0)
    with pytest.raises(ValueError, match="max_share"):
        BreakerPolicy(max_share=1.5)


def test_breaker_settings_are_read_from_the_environment() -> None:
    """The new variables are read; the old count window only lowers min_outcomes."""
    assert PolicySettings.from_env({}).breaker == BreakerPolicy()
    breaker = PolicySettings.from_env(
        {"CONVEYOR_BREAKER_WINDOW_S": "15", "CONVEYOR_BREAKER_MIN_OUTCOMES": "20"}
    ).breaker
    assert (breaker.window_s, breaker.min_outcomes) == (15.0, 20)
    assert PolicySettings.from_env({"CONVEYOR_BREAKER_WINDOW": "20"}).breaker.min_outcomes == 20
    assert PolicySettings.from_env({"CONVEYOR_BREAKER_WINDOW": "200"}).breaker.min_outcomes == 50
    with pytest.raises(PolicyConfigError):
        PolicySettings.from_env({"CONVEYOR_BREAKER_WINDOW_S": "-1"})


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
