"""The operations' pure parts, without a broker: replay windows, per-key redrive order,
dead-letter filters, thresholds and time parsing."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException
from hypothesis import given
from hypothesis import strategies as st

from conveyor import naming
from conveyor.clients import reader, waiting
from conveyor.ops.deadletters import DeadLetter, DeadLetterFilter
from conveyor.ops.errors import KafkaOperationError
from conveyor.ops.records import Record
from conveyor.ops.redrive import in_key_order
from conveyor.ops.session import declared_services
from conveyor.ops.status import Sample, ServiceStatus, Thresholds, with_rate
from conveyor.ops.timeparse import to_epoch_ms
from conveyor.replay import ReplayWindows, loading
from conveyor.replay.loading import ReplayWindowsLoadError
from conveyor.retry import Backoff
from tests.project import PROJECT


def _letter(
    offset: int, key: str, original_offset: int, error: str = "E", lane: str | None = None
) -> DeadLetter:
    headers: tuple[tuple[str, bytes], ...] = (
        (naming.ORIGINAL_TOPIC, b"t"),
        (naming.ORIGINAL_PARTITION, b"0"),
        (naming.ORIGINAL_OFFSET, str(original_offset).encode()),
        (naming.ERROR_TYPE, error.encode()),
        (naming.LAST_FAILED_AT, b"1000"),
    )
    if lane is not None:
        headers += ((naming.LANE, lane.encode()),)
    return DeadLetter(Record("svc.dlq", 0, offset, 1000, key.encode(), b"v", headers))


def test_a_replay_window_covers_what_was_handled_before() -> None:
    """Moving from committed 8 back to 2 marks offsets 2..7 as replayed, nothing else."""
    windows = ReplayWindows("svc").merged({("t", 0): (2, 8)})
    assert [o for o in range(12) if windows.contains("t", 0, o)] == [2, 3, 4, 5, 6, 7]
    assert not windows.contains("t", 1, 3)
    assert ReplayWindows.from_json(windows.to_json()).windows == windows.windows


def test_skipping_forward_opens_no_window() -> None:
    """A move forward (to latest) replays nothing."""
    assert ReplayWindows("svc").merged({("t", 0): (9, 4)}).windows == {}


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 1000)), unique=True))
def test_redrive_order_restores_each_keys_original_order(pairs: list[tuple[str, int]]) -> None:
    """Whatever order letters were dead-lettered in, each key's come out by original offset,
    every letter exactly once."""
    letters = [_letter(i, key, original) for i, (key, original) in enumerate(pairs)]
    ordered = in_key_order(letters)
    assert sorted(x.position for x in ordered) == sorted(x.position for x in letters)
    for key in "abc":
        offsets = [x.origin_order()[2] for x in ordered if x.key == key]
        assert offsets == sorted(offsets)


def test_dead_letter_filters_all_must_hold() -> None:
    """Error type matches by full or last dotted name; key, topic, time and lane must all
    match."""
    letter = _letter(0, "k", 1, error="httpx.TimeoutError")
    assert DeadLetterFilter(error_type="TimeoutError", key="k").matches(letter)
    assert DeadLetterFilter(error_type="httpx.TimeoutError", original_topic="t").matches(letter)
    assert not DeadLetterFilter(error_type="Timeout").matches(letter)
    assert not DeadLetterFilter(key="other").matches(letter)
    assert DeadLetterFilter(since_ms=1000, until_ms=1001).matches(letter)
    assert not DeadLetterFilter(since_ms=1001).matches(letter)
    assert not DeadLetterFilter(lane="high").matches(letter)  # a letter from no lane
    urgent = _letter(0, "k", 1, lane="high")
    assert DeadLetterFilter.parse(key="k", lane="high").matches(urgent)
    assert not DeadLetterFilter(lane="low").matches(urgent)


def test_thresholds_name_each_breach() -> None:
    """Each limit passed is reported; at the limit is not a breach."""
    found = ServiceStatus("svc", "empty", (), (), {}, 0, 5, 0, 0)
    assert Thresholds(max_dead_letters=5).breaches(found) == []
    assert Thresholds(max_dead_letters=4, max_lag=0).breaches(found) == ["svc: 5 dead letters > 4"]


def test_times_parse_as_iso_or_epoch_millis() -> None:
    """ISO-8601 with Z, with an offset, without one (UTC), a date, or epoch millis."""
    assert to_epoch_ms("1970-01-01T00:00:01Z") == 1000
    assert to_epoch_ms("1970-01-01T01:00:01+01:00") == 1000
    assert to_epoch_ms("1970-01-01T00:00:01") == 1000
    assert to_epoch_ms("1970-01-02") == 86_400_000
    assert to_epoch_ms("1234") == 1234


def test_declared_services_come_from_the_topology_file() -> None:
    """Each service of schemas/topics.yaml with its inputs (every lane of a topic with lanes,
    highest first), retry tiers, dead letters and, for ordered services only, parked keys."""
    declared = declared_services(PROJECT)
    welcome, payments = declared["welcome-email"], declared["payments"]
    assert welcome.inputs == ("user.signup.lane.urgent", "user.signup", "user.signup.lane.low")
    assert dict(welcome.lanes)["user.signup"] == "user.signup/normal"
    assert welcome.retry_topics[0] == "welcome-email.retry.1"
    assert welcome.dead_letter_topic == "welcome-email.dlq"
    assert welcome.parked_topic is None
    assert payments.retry_topics == ()
    assert payments.parked_topic == "payments.parked"


def test_events_per_second_come_from_two_samples_of_committed_offsets() -> None:
    """50 offsets committed in 2 s between the samples is 25 events/s; one sample gives none."""
    now = ServiceStatus("svc", "stable", (), (), {}, 0, 0, taken_at_ms=12_000, processed=150)
    assert with_rate(Sample(10_000, 100), now).events_per_second == 25.0
    assert with_rate(None, now).events_per_second is None


def test_only_a_settling_broker_errors_count_as_transient() -> None:
    settling = KafkaOperationError("listing offsets", KafkaError(KafkaError.UNKNOWN_LEADER_EPOCH))
    retriable = KafkaOperationError("x", KafkaError(KafkaError._TIMED_OUT, retriable=True))
    refused = KafkaOperationError("x", KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))
    assert settling.transient
    assert retriable.transient
    assert not refused.transient
    assert not KafkaOperationError("x", "not a client error").transient


def _loads(monkeypatch: pytest.MonkeyPatch, outcomes: list[int | None]) -> list[str]:
    """Makes each read of the replay windows fail with the client's error of each code of
    `outcomes` in turn (None: succeed, finding no window)."""
    calls: list[str] = []

    def read_to_end(_consumer: object, topic: str, *_args: object, **_kw: object) -> list[object]:
        calls.append(topic)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise KafkaException(KafkaError(outcome))
        return []

    monkeypatch.setattr(reader, "read_to_end", read_to_end)
    monkeypatch.setattr(loading, "first_contact", lambda *_: None)
    monkeypatch.setattr(waiting, "PAUSES", Backoff(delay=0.001, max_delay=0.001))
    return calls


def test_a_service_start_waits_out_a_settling_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    settling = KafkaError.UNKNOWN_LEADER_EPOCH
    calls = _loads(monkeypatch, [settling, settling, None])
    assert loading.for_service("b:9092", "svc").group == "svc"
    assert calls == [naming.REPLAYS_TOPIC] * 3


def test_a_service_start_fails_at_once_on_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _loads(monkeypatch, [KafkaError.TOPIC_AUTHORIZATION_FAILED, None])
    with pytest.raises(ReplayWindowsLoadError, match="TOPIC_AUTHORIZATION_FAILED"):
        loading.for_service("b:9092", "svc")
    assert len(calls) == 1


def test_a_service_start_gives_up_on_a_broker_settling_past_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _loads(monkeypatch, [KafkaError.LEADER_NOT_AVAILABLE] * 1000)
    with pytest.raises(ReplayWindowsLoadError, match="LEADER_NOT_AVAILABLE"):
        loading.for_service("b:9092", "svc", settle=0.05)
    assert 1 < len(calls) < 1000
