"""A service-wide rate limit is split among the members by the partitions each owns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor.policies.limits import Limiters
from conveyor.ratelimit import RateLimit, RateLimiter, Scope, share_of
from conveyor.runtime import Context, HandlerPolicy, Service
from conveyor.runtime.service import Registration
from tests.runtime.support import Ping

LIMIT = RateLimit(max=50, duration=1.0)


def _registration(limit: RateLimit) -> Registration:
    service = Service("crm-sync")

    @service.handler(Ping, policy=HandlerPolicy(rate_limit=limit))
    def call_crm(event: Ping, ctx: Context) -> None:
        return

    return next(iter(service.registrations.values()))


def _admitted(limiter: RateLimiter, windows: int, per_window: int = 100) -> int:
    """How many of `per_window` events offered in each of `windows` one-second windows pass."""
    admitted = 0
    for window in range(windows):
        for i in range(per_window):
            admitted += limiter.acquire(window + i / (per_window * 2)) == 0.0
    return admitted


def test_a_member_gets_the_limit_times_its_share_of_the_partitions() -> None:
    """One of three partitions earns a third; all of them the whole; none nothing."""
    assert share_of(LIMIT, 1, 3) == pytest.approx(50 / 3)
    assert share_of(LIMIT, 3, 3) == 50
    assert share_of(LIMIT, 0, 3) == 0
    assert share_of(LIMIT, 1, 0) == 0


def test_a_process_scoped_limit_gives_every_process_the_whole_limit() -> None:
    """Scope.PROCESS keeps the limiter's former per-process behaviour."""
    limit = RateLimit(max=50, duration=1.0, scope=Scope.PROCESS)
    assert share_of(limit, 1, 3) == 50
    assert share_of(limit, 0, 3) == 50


@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=8))
def test_shares_of_any_partition_split_sum_to_the_limit(owned: list[int]) -> None:
    """However unevenly the group spreads the partitions, the members' shares add up to max."""
    total = sum(owned)
    if total == 0:
        return
    assert sum(share_of(LIMIT, n, total) for n in owned) == pytest.approx(50)


def test_a_fractional_share_is_let_through_exactly_over_many_windows() -> None:
    """50/s over three members: each lets through 16 or 17 a window, 500 +- 1 over 30 s."""
    limiter = RateLimiter(LIMIT)
    limiter.reshare(1, 3)
    assert abs(_admitted(limiter, 30) - 500) <= 1


def test_three_members_of_one_partition_each_together_stay_at_the_limit() -> None:
    """Three limiters with a third each let through 50 a window between them, not 150."""
    members = [RateLimiter(LIMIT) for _ in range(3)]
    for member in members:
        member.reshare(1, 3)
    assert abs(sum(_admitted(member, 20) for member in members) - 1000) <= 3


def test_the_share_follows_assignments_and_revocations() -> None:
    """Assigned one of three partitions: a third; then all three: the whole; revoked all: none
    pass, and the wait is to the window's end. Each new share is told (for the gauge)."""
    registration = _registration(LIMIT)
    told: list[float] = []
    limiters = Limiters(
        "crm-sync",
        {registration: LIMIT},
        ["crm.in"],
        lambda topics: 3,
        lambda shared, per_s: told.append(per_s),
    )
    limiter = limiters.get(registration)
    assert limiter is not None
    limiters.assigned([("crm.in", 0)])
    assert limiter.share == pytest.approx(50 / 3)
    limiters.assigned([("crm.in", 1), ("crm.in", 2)])
    assert limiter.share == 50
    limiters.revoked([("crm.in", 1)])
    assert limiter.share == pytest.approx(100 / 3)
    limiters.revoked([("crm.in", 0), ("crm.in", 2)])
    assert limiter.share == 0
    assert limiter.acquire(10.0) == pytest.approx(1.0)
    assert limiter.acquire(10.5) == pytest.approx(0.5)
    assert told == pytest.approx([50 / 3, 50, 100 / 3, 0])


def test_partitions_of_topics_not_named_as_inputs_still_count() -> None:
    """A renamed input topic (not in the names the limiters were given) is counted from its
    assigned partitions, so a lone member still gets the whole limit."""
    registration = _registration(LIMIT)
    counted: list[list[str]] = []

    def count(topics: list[str]) -> int:
        counted.append(topics)
        return 2 * len(topics)

    limiters = Limiters("crm-sync", {registration: LIMIT}, [], count)
    limiters.assigned([("renamed", 0), ("renamed", 1)])
    limiter = limiters.get(registration)
    assert limiter is not None
    assert limiter.share == 50
    assert counted == [["renamed"]]


def test_a_process_scoped_limit_asks_the_cluster_for_nothing() -> None:
    """Without a service-wide limit, rebalances count no partitions."""
    limit = RateLimit(max=5, duration=1.0, scope=Scope.PROCESS)
    registration = _registration(limit)

    def count(topics: list[str]) -> int:
        raise AssertionError("counted partitions for a per-process limit")

    limiters = Limiters("crm-sync", {registration: limit}, ["t"], count)
    limiters.assigned([("t", 0)])
    limiter = limiters.get(registration)
    assert limiter is not None
    assert limiter.share == 5


def test_a_scope_must_be_a_scope() -> None:
    """Policies are values: a string where a Scope belongs is refused."""
    with pytest.raises(ValueError, match="scope"):
        RateLimit(max=5, duration=1.0, scope="process")  # type: ignore[arg-type]
