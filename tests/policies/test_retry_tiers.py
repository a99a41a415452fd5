"""The unordered retry-tier plan: which tier an attempt goes to, and when it becomes due."""

from __future__ import annotations

from conveyor.retry import (
    Backoff,
    Decision,
    RetryPolicy,
    Verdict,
    held_for,
    plan_unordered,
    tier_of,
    tier_topics,
)


def test_a_policy_with_n_attempts_has_n_minus_one_tiers() -> None:
    """Each retry has its own tier topic, named `<service>.retry.<n>`."""
    assert tier_topics("welcome-email", RetryPolicy(attempts=4)) == [
        "welcome-email.retry.1",
        "welcome-email.retry.2",
        "welcome-email.retry.3",
    ]
    assert tier_topics("welcome-email", RetryPolicy(attempts=1)) == []


def test_the_nth_failure_goes_to_tier_n_due_after_its_backoff() -> None:
    """The second failure lands in tier 2 with a due time of now + the second backoff."""
    policy = RetryPolicy(attempts=4, backoff=Backoff(delay=2.0))
    decision = policy.decide(2, RuntimeError(), draw=lambda: 1.0)
    destination = plan_unordered("crm-sync", 2, decision, now_ms=1_000_000)
    assert destination.topic == "crm-sync.retry.2"
    assert destination.due_at_ms == 1_004_000
    assert not destination.dead_letter


def test_after_the_last_tier_the_event_goes_to_the_dead_letters() -> None:
    """An exhausted decision plans the dead-letter topic, with no due time."""
    destination = plan_unordered("crm-sync", 3, Decision(Verdict.DEAD_LETTER), now_ms=5)
    assert destination.topic == "crm-sync.dlq"
    assert destination.dead_letter


def test_tier_numbers_are_read_back_from_topic_names() -> None:
    """Only the service's own tier topics have a tier number."""
    assert tier_of("analytics", "analytics.retry.3") == 3
    assert tier_of("analytics", "analytics.dlq") is None
    assert tier_of("analytics", "user.signup") is None
    assert tier_of("analytics", "analytics.retry.x") is None
    assert tier_of("analytics", "other.retry.1") is None


def test_a_tier_holds_an_event_until_it_is_due() -> None:
    """held_for is the remaining wait in seconds, never negative."""
    assert held_for(10_500, now_ms=10_000) == 0.5
    assert held_for(10_000, now_ms=10_500) == 0.0
    assert held_for(None, now_ms=1) == 0.0
