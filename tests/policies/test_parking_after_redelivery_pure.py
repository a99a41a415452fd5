"""The pure parts of exact parking after redeliveries: where a parking starts, the parked-topic
key both the runtime and the redrive use, and how a dead letter's event is recognised again."""

from __future__ import annotations

import json
from concurrent.futures import Future

from hypothesis import given
from hypothesis import strategies as st

from conveyor import naming
from conveyor.deadletter.headers import failure_headers
from conveyor.deadletter.once import LetterId, WrittenLetters
from conveyor.deadletter.record import FailureDetails, SourceRecord
from conveyor.deadletter.writer import Written
from conveyor.ops import parked
from conveyor.ops.deadletters import DeadLetter
from conveyor.ops.records import Record
from conveyor.parking import ParkedKey, codec
from conveyor.parking.codec import ParkedRecord
from conveyor.policies.settings import PolicySettings

PARKED = ParkedKey("orders", 4, b"A", behind="e-14", parked_at_ms=1_000, offset=140)
FAILURE = FailureDetails("ValueError", "bad", attempts=3, failed_at_ms=5)


def source(offset: int, headers: list[tuple[str, bytes]] | None = None) -> SourceRecord:
    return SourceRecord("orders", 4, offset, 1, b"A", b"v", headers or [])


def test_a_parked_record_carries_its_source_offset_through_a_restart() -> None:
    """The offset of the event that parked the key is written and read back."""
    key, value = codec.encode(PARKED)
    assert json.loads(value)["offset"] == 140
    assert codec.apply(None, ParkedRecord(key, value, 1_000)) == PARKED


def test_a_parking_holds_only_the_events_at_or_after_the_parked_one() -> None:
    """A redelivered event from before the parked one runs; the parked one and later wait."""
    assert [PARKED.parks(offset) for offset in (139, 140, 141)] == [False, True, True]


def test_a_parked_record_of_an_older_version_parks_every_event_of_its_key() -> None:
    """Without a recorded offset nothing tells earlier events from later ones: all are held."""
    _key, value = codec.encode(PARKED)
    older = json.loads(value)
    del older["offset"]
    loaded = codec.decode(json.dumps(older).encode())
    assert loaded.offset is None
    assert loaded.parks(0)


def test_a_redrive_tombstone_keeps_the_offset_of_the_parking_it_releases() -> None:
    """While releasing, the key still lets its earlier redelivered events run."""
    key, value = codec.encode(PARKED)
    tombstone = ParkedRecord(key, None, 2_000, ((naming.REDRIVE_RELEASES, b"4"),))
    releasing = codec.apply(codec.apply(None, ParkedRecord(key, value, 1_000)), tombstone)
    assert releasing is not None
    assert (releasing.releasing, releasing.offset) == (True, 140)


def test_the_runtime_and_the_redrive_key_a_parked_record_alike() -> None:
    """The redrive finds (and releases) a key under the very record key the runtime parks it."""
    letter = DeadLetter(Record("s.dlq", 0, 7, 1, b"A", b"v", ((naming.ORIGINAL_TOPIC, b"orders"),)))
    runtime_key, _ = codec.encode(PARKED)
    assert parked.of_letter(letter) == runtime_key
    assert naming.split_parked_record_key(runtime_key) == ("orders", b"A")
    assert parked.readable(runtime_key) == "orders/A"


@given(
    topic=st.from_regex(r"[a-zA-Z0-9._-]{1,40}", fullmatch=True),
    key=st.binary(max_size=40),
    partition=st.integers(0, 99),
)
def test_any_parked_key_is_found_again_from_its_dead_letter(
    topic: str, key: bytes, partition: int
) -> None:
    """For any topic and key (NUL bytes and the empty key included): the dead letter the runtime
    writes for the parked event names the record key the runtime parked it under."""
    parking = ParkedKey(topic, partition, key, behind="e", parked_at_ms=1, offset=3)
    runtime_key, _ = codec.encode(parking)
    written = failure_headers(SourceRecord(topic, partition, 3, 1, key, b"v", []), FAILURE, "s")
    letter = DeadLetter(Record("s.dlq", 0, 0, 1, key, b"v", tuple(written)))
    assert parked.of_letter(letter) == runtime_key
    assert naming.split_parked_record_key(runtime_key) == (topic, key)


def test_an_event_is_known_by_the_id_its_dead_letter_gets() -> None:
    """From its own topic, a retry tier or a redrive, the id read from the event is the id read
    from the headers of the dead letter written for it."""
    first = source(140)
    tier = SourceRecord("s.retry.1", 0, 9, 1, b"A", b"v", failure_headers(first, FAILURE, "s"))
    redriven = SourceRecord(
        "s.redrive", 0, 3, 1, b"A", b"v", [*tier.headers, (naming.REDRIVE_COUNT, b"1")]
    )
    for record in (first, tier, redriven):
        written = failure_headers(record, FAILURE, "s")
        assert LetterId.of_headers(written) == LetterId.of_record(record)
    assert LetterId.of_record(tier) == LetterId("orders", 4, 140)
    assert LetterId.of_record(redriven) == LetterId("orders", 4, 140, redrives=1)


def test_a_record_without_original_headers_is_no_dead_letter() -> None:
    assert LetterId.of_headers([(naming.ORIGINAL_TOPIC, b"orders")]) is None


def test_a_known_letter_gives_back_its_first_write_and_a_failed_one_is_forgotten() -> None:
    """A redelivery gets the first write back; a write the broker refused does not count."""
    letters = WrittenLetters()
    ok: Future[Written] = Future()
    refused: Future[Written] = Future()
    letters.writing(LetterId("orders", 4, 1), ok, now_ms=10)
    letters.writing(LetterId("orders", 4, 2), refused, now_ms=10)
    ok.set_result(Written("s.dlq", 0, 0))
    refused.set_exception(RuntimeError("not confirmed"))
    assert letters.find(LetterId("orders", 4, 1)) is ok
    assert letters.find(LetterId("orders", 4, 2)) is None


def test_a_load_adds_the_letters_read_back_and_drops_those_older_than_its_window() -> None:
    letters = WrittenLetters()
    old: Future[Written] = Future()
    letters.writing(LetterId("orders", 4, 1), old, now_ms=10)
    letters.loaded([(LetterId("orders", 4, 2), Written("s.dlq", 0, 5), 900)], since_ms=500)
    assert letters.find(LetterId("orders", 4, 1)) is None
    found = letters.find(LetterId("orders", 4, 2))
    assert found is not None
    assert found.result(0) == Written("s.dlq", 0, 5)
    assert len(letters) == 1


def test_the_dead_letter_lookback_is_read_from_the_environment() -> None:
    """How far back a service reads its dead letters at an assignment is the operator's."""
    assert PolicySettings().dead_letter_lookback_s == 86_400
    env = {"CONVEYOR_DEAD_LETTER_LOOKBACK_S": "600"}
    assert PolicySettings.from_env(env).dead_letter_lookback_s == 600
