"""Dead-letter, retry-tier and parked-key writes against a real broker."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import Producer
from structlog.testing import capture_logs

from conveyor import naming
from conveyor.deadletter import ConfirmedWriter, FailureSink, FailureWriteError, SourceRecord
from conveyor.deadletter.record import FailureDetails
from conveyor.parking import PARKED_TOPIC_CONFIG, ParkedKey, ParkedKeyStore
from tests.conftest import create_topic
from tests.reading import read_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def writer(kafka_bootstrap: str) -> Iterator[ConfirmedWriter]:
    made = ConfirmedWriter(kafka_bootstrap, delivery_timeout_ms=10_000)
    yield made
    made.close()


def _consume_one(bootstrap: str, topic: str) -> SourceRecord:
    [message] = read_until(bootstrap, topic, 1)
    return SourceRecord.from_message(message)


def test_dead_letter_keeps_key_value_and_headers_and_is_confirmed(
    kafka_bootstrap: str, new_topic: Callable[..., str], writer: ConfirmedWriter
) -> None:
    """A dead letter is confirmed and carries the original bytes plus DESIGN.md's headers."""
    source = new_topic(partitions=1)
    service = source  # a service named after the fresh topic, so its DLQ is fresh too
    create_topic(kafka_bootstrap, naming.dead_letter_topic(service), 1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(source, b"\xc3\x01body", b"user-7", headers=[("event-id", b"e-7")])
    producer.flush(10)
    original = _consume_one(kafka_bootstrap, source)

    sink = FailureSink(writer, service, group="welcome-email")
    failure = FailureDetails.from_exception(ValueError("bad address"), attempts=3, failed_at_ms=123)
    written = sink.dead_letter(original, failure).result(timeout=15)

    dead = _consume_one(kafka_bootstrap, naming.dead_letter_topic(service))
    assert (written.topic, written.offset) == (dead.topic, dead.offset)
    assert (dead.key, dead.value) == (b"user-7", b"\xc3\x01body")
    headers = dict(dead.headers)
    assert headers["event-id"] == b"e-7"
    assert set(naming.DEAD_LETTER_HEADERS) <= set(headers)
    assert headers[naming.ORIGINAL_TOPIC] == source.encode()
    assert headers[naming.ORIGINAL_OFFSET] == str(original.offset).encode()
    assert headers[naming.CONSUMER_GROUP] == b"welcome-email"
    assert headers[naming.ERROR_TYPE] == b"builtins.ValueError"


def test_poison_bytes_are_dead_lettered_with_the_decode_error(
    kafka_bootstrap: str, new_topic: Callable[..., str], writer: ConfirmedWriter
) -> None:
    """Undecodable bytes go to the dead letters untouched, after a single attempt."""
    service = new_topic(partitions=1)
    create_topic(kafka_bootstrap, naming.dead_letter_topic(service), 1)
    poison = SourceRecord(service, 0, 5, 1, b"k", b"\x00not avro", [])
    FailureSink(writer, service).poison(poison, ValueError("bad magic"), now_ms=9).result(15)
    dead = _consume_one(kafka_bootstrap, naming.dead_letter_topic(service))
    headers = dict(dead.headers)
    assert dead.value == b"\x00not avro"
    assert headers[naming.ATTEMPTS] == b"1"
    assert headers[naming.ERROR_MESSAGE] == b"bad magic"


def test_a_write_to_a_missing_topic_fails_its_future_instead_of_hanging(
    kafka_bootstrap: str,
) -> None:
    """An unconfirmable write surfaces as FailureWriteError within the delivery timeout."""
    writer = ConfirmedWriter(kafka_bootstrap, delivery_timeout_ms=2_000)
    try:
        future = writer.write("t-no-such-topic-for-policies", b"k", b"v")
        with pytest.raises(FailureWriteError):
            future.result(timeout=30)
    finally:
        writer.close(timeout=1)


def test_parked_keys_survive_a_restart_and_release_compacts_them_away(
    kafka_bootstrap: str, new_topic: Callable[..., str], writer: ConfirmedWriter
) -> None:
    """Keys parked by one process are loaded by the next one for its assigned partitions only."""
    service = new_topic(partitions=1)
    create_topic(kafka_bootstrap, naming.parked_topic(service), 1, config=PARKED_TOPIC_CONFIG)
    first = ParkedKeyStore(service, kafka_bootstrap, writer)
    first.load([("order.events", 0)])
    assert len(first.keys) == 0
    first.park(ParkedKey("order.events", 0, b"o-1", behind="e-1", parked_at_ms=1)).result(15)
    first.park(ParkedKey("order.events", 1, b"o-2", behind="e-2", parked_at_ms=2)).result(15)
    first.park(ParkedKey("order.events", 0, b"o-3", behind="e-3", parked_at_ms=3)).result(15)
    first.release("order.events", 0, b"o-3").result(15)

    after_restart = ParkedKeyStore(service, kafka_bootstrap, writer)
    assert after_restart.load([("order.events", 0)]) == 1
    parked = after_restart.keys.get("order.events", 0, b"o-1")
    assert parked is not None
    assert parked.behind == "e-1"
    assert after_restart.keys.get("order.events", 0, b"o-3") is None
    assert after_restart.keys.get("order.events", 1, b"o-2") is None  # not assigned here


def test_a_failed_event_is_a_warning_and_one_following_its_parked_key_is_info(
    kafka_bootstrap: str, new_topic: Callable[..., str], writer: ConfirmedWriter
) -> None:
    """Both are dead-lettered and logged; only the event that failed is logged as a warning,
    the later events of its parked key (never tried, sent along to keep the order) at info."""
    source = new_topic(partitions=1)
    create_topic(kafka_bootstrap, naming.dead_letter_topic(source), 1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(source, b"body", b"user-8")
    producer.flush(10)
    original = _consume_one(kafka_bootstrap, source)
    sink = FailureSink(writer, source)
    failure = FailureDetails.from_exception(ValueError("bad"), attempts=3, failed_at_ms=1)

    with capture_logs() as logs:
        sink.dead_letter(original, failure).result(timeout=15)
        follower = dataclasses.replace(original, offset=original.offset + 1)
        sink.dead_letter(follower, failure, parked_behind="e-1").result(timeout=15)

    levels = [
        (entry["log_level"], entry["parked_behind"])
        for entry in logs
        if entry["event"] == "event.dead_lettered"
    ]
    assert levels == [("warning", None), ("info", "e-1")]
