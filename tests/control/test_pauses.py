"""Pause records and the pauses they amount to for one service, without a broker."""

from __future__ import annotations

from conveyor.control.pauses import Paused, parse_key, pause_key


def test_a_pause_of_every_topic_covers_any_topic_of_its_service_only() -> None:
    """A service-wide pause covers all its topics; other services' pauses do not count."""
    keys = [pause_key("crm-sync", None), pause_key("analytics", "order.events")]
    paused = Paused.of("crm-sync", keys)
    assert paused.everything
    assert paused.covers("user.signup")
    assert paused.covers("crm-sync.retry.1")
    assert not Paused.of("welcome-email", keys)


def test_a_topic_pause_covers_that_topic_under_its_actual_name() -> None:
    """A pause names the declared topic; the service reads it under its mapped name."""
    keys = [pause_key("analytics", "order.events")]
    paused = Paused.of("analytics", keys, {"order.events": "t-orders"})
    assert paused.covers("t-orders")
    assert not paused.covers("user.signup")


def test_keys_round_trip_and_foreign_records_are_ignored() -> None:
    """Only pause records parse; anything else on the control topic is left alone."""
    assert parse_key(pause_key("a", "t")) == ("a", "t")
    assert parse_key(pause_key("a", None)) == ("a", "")
    assert parse_key(b"limit\x00a") is None
