"""Which Kafka errors conveyor waits out, and how it waits: pure, no broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, KafkaException
from structlog.testing import capture_logs

from conveyor.clients import KafkaUnavailableError, Outage, is_transient, wait_out, waiting
from conveyor.clients.transient import is_refused
from conveyor.deadletter import FailureWriteError
from conveyor.logs import KAFKA_RECOVERED, KAFKA_UNAVAILABLE
from conveyor.ops.errors import KafkaOperationError
from conveyor.parking.errors import ParkedKeysLoadError
from conveyor.retry import Backoff


@pytest.fixture(autouse=True)
def _short_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waiting, "PAUSES", Backoff(delay=0.001, max_delay=0.001))


def _error(code: int, *, retriable: bool = False, fatal: bool = False) -> KafkaException:
    return KafkaException(KafkaError(code, "test", fatal=fatal, retriable=retriable))


@pytest.mark.parametrize(
    "code",
    [
        KafkaError._DESTROY_BROKER,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        KafkaError.REQUEST_TIMED_OUT,
    ],
)
def test_errors_that_pass_with_a_node_back_or_a_leader_moved_are_transient(code: int) -> None:
    """A torn-down connection, a timeout, no leader or coordinator yet, too few replicas for a
    moment: all transient, though librdkafka marks none of these retriable."""
    assert is_transient(_error(code))
    assert is_transient(KafkaError(code))


@pytest.mark.parametrize(
    "code",
    [
        KafkaError._AUTHENTICATION,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.PRODUCER_FENCED,
        KafkaError._FENCED,
        KafkaError._INVALID_ARG,
    ],
)
def test_refusals_and_fencing_are_never_transient(code: int) -> None:
    """No wait cures credentials, permissions or a fenced producer, even when marked retriable."""
    assert not is_transient(_error(code))
    assert not is_transient(_error(code, retriable=True))


def test_a_refusal_is_one_the_cluster_repeats_until_someone_acts() -> None:
    """Credentials and permissions are refused for good, here or as the cause of a write of
    ours; an outage, a missing topic or our own closed client is not a refusal."""
    denied = KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)
    assert is_refused(_error(KafkaError.TOPIC_AUTHORIZATION_FAILED))
    assert is_refused(FailureWriteError("s.dlq", str(denied), refused=is_refused(denied)))
    assert is_refused(_error(KafkaError._TRANSPORT, fatal=True))
    for code in (KafkaError._TRANSPORT, KafkaError._UNKNOWN_TOPIC, KafkaError._DESTROY):
        assert not is_refused(_error(code))
    assert not is_refused(FailureWriteError("s.dlq", "timed out"))
    assert not is_refused(ValueError("a bug"))


def test_an_error_librdkafka_marks_retriable_is_transient_unless_fatal() -> None:
    """librdkafka's own `retriable()` counts; its `fatal()` wins over it."""
    assert is_transient(_error(KafkaError.INVALID_RECORD, retriable=True))
    assert not is_transient(_error(KafkaError.INVALID_RECORD))
    assert not is_transient(_error(KafkaError._TRANSPORT, fatal=True))


def test_a_missing_topic_is_transient_only_while_waiting_for_a_new_one() -> None:
    """An unknown topic is waited for right after creating it, and an error otherwise."""
    for code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
        assert is_transient(_error(code), new_topic=True)
        assert not is_transient(_error(code))


def test_conveyor_errors_are_judged_by_what_they_say_or_by_their_cause() -> None:
    """A timeout is transient; an error of ours carries its own judgement or its cause's."""
    assert is_transient(TimeoutError())
    assert is_transient(KafkaOperationError("x", KafkaError(KafkaError._DESTROY_BROKER)))
    assert not is_transient(KafkaOperationError("x", "not a client error"))
    wrapped = ParkedKeysLoadError("reading s.parked")
    wrapped.__cause__ = _error(KafkaError._TRANSPORT)
    assert is_transient(wrapped)
    assert not is_transient(ValueError("a bug"))


def _failing(errors: list[Exception]) -> tuple[list[int], Callable[[], str]]:
    """A call raising `errors` in turn, then answering; and the list of its calls."""
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "answer"

    return calls, call


class _Readiness:
    def __init__(self) -> None:
        self.states: list[tuple[str, bool]] = []

    def waiting(self, name: str, reason: str) -> None:
        self.states.append((name, False))

    def unblock(self, name: str) -> None:
        self.states.append((name, True))


def test_an_outage_logs_one_line_when_it_starts_and_one_when_it_ends() -> None:
    """Five failed tries, then success: one `kafka.unavailable`, one `kafka.recovered`, and the
    readiness is told it waits, then that it no longer does."""
    readiness = _Readiness()
    calls, call = _failing([_error(KafkaError._DESTROY_BROKER)] * 5)
    with capture_logs() as logs:
        assert wait_out(call, Outage("parked keys", readiness)) == "answer"
    assert len(calls) == 6
    events = [entry["event"] for entry in logs]
    assert events == [KAFKA_UNAVAILABLE, KAFKA_RECOVERED]
    assert logs[0]["code"] == "_DESTROY_BROKER"
    assert logs[0]["what"] == "parked keys"
    assert readiness.states[0] == ("parked keys", False)
    assert readiness.states[-1] == ("parked keys", True)


def test_success_without_an_outage_logs_nothing() -> None:
    """A call that works at once says nothing and tells the readiness nothing."""
    readiness = _Readiness()
    with capture_logs() as logs:
        assert wait_out(lambda: 1, Outage("x", readiness)) == 1
    assert logs == []
    assert readiness.states == []


def test_a_wait_given_up_no_longer_holds_the_readiness() -> None:
    """A caller that gives up and goes on (a read it can do without) is ready again."""
    readiness = _Readiness()
    _calls, call = _failing([_error(KafkaError._TRANSPORT)] * 100_000)
    with pytest.raises(KafkaUnavailableError):
        wait_out(call, Outage("recent dead letters", readiness), timeout=0.05)
    assert readiness.states[0] == ("recent dead letters", False)
    assert readiness.states[-1] == ("recent dead letters", True)


def test_a_fatal_error_is_raised_at_once() -> None:
    """An authorization failure is not retried: the caller sees the client's own error."""
    calls, call = _failing([_error(KafkaError.TOPIC_AUTHORIZATION_FAILED)] * 3)
    with pytest.raises(KafkaException, match="TOPIC_AUTHORIZATION_FAILED"):
        wait_out(call, Outage("x"))
    assert len(calls) == 1


def test_a_deadline_turns_a_long_outage_into_a_clear_error() -> None:
    """Past its timeout the wait gives up, naming what it waited for and the last error."""
    _calls, call = _failing([_error(KafkaError._TRANSPORT)] * 100_000)
    with pytest.raises(KafkaUnavailableError, match=r"replay windows: .*_TRANSPORT") as raised:
        wait_out(call, Outage("replay windows"), timeout=0.05)
    assert is_transient(raised.value), "a caller without a deadline may wait on"


def test_a_topic_that_stays_missing_stops_the_wait_after_the_grace() -> None:
    """A missing topic is waited for during the grace, then raised as it is."""
    calls, call = _failing([_error(KafkaError.UNKNOWN_TOPIC_OR_PART)] * 100_000)
    with pytest.raises(KafkaException, match="UNKNOWN_TOPIC_OR_PART"):
        wait_out(call, Outage("x"), new_topic_grace=0.05)
    assert len(calls) > 1
