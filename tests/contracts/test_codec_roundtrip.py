"""The codec turns every event type into standard Avro single-object bytes and back."""

from __future__ import annotations

from io import BytesIO
from typing import Any
from uuid import UUID

import pytest
from fastavro import schemaless_reader, schemaless_writer
from hypothesis import given, settings

from conveyor.codec import AvroCodec
from conveyor.codec.framing import fingerprint
from conveyor.events import Event
from shop_events import EVENT_TYPES, OrderPlaced
from tests import samples
from tests.contracts import strategies
from tests.project import repo_codec


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return repo_codec()


@pytest.mark.parametrize("event", samples.every_event(), ids=lambda e: type(e).__name__)
def test_every_event_type_round_trips(codec: AvroCodec, event: Event) -> None:
    """Decoding what was encoded gives back an equal event of the same type."""
    decoded = codec.decode(codec.encode(event))

    assert type(decoded) is type(event)
    assert decoded == event


@pytest.mark.parametrize("event", samples.every_event(), ids=lambda e: type(e).__name__)
def test_event_type_of_tells_the_type_that_decode_gives(codec: AvroCodec, event: Event) -> None:
    """From the single-object header alone: what the consumer routes by without decoding."""
    data = codec.encode(event)
    assert codec.event_type_of(data) is type(codec.decode(data)) is type(event)
    assert codec.event_type_of(data[:10]) is type(event)
    assert codec.event_type_of(b"\xc3\x01" + bytes(8) + data[10:]) is None
    assert codec.event_type_of(data[:9]) is None


def test_every_event_type_has_an_example() -> None:
    """The round-trip examples cover every registered event type."""
    assert {type(e) for e in samples.every_event()} == set(EVENT_TYPES.values())


@settings(max_examples=200, deadline=None)
@given(event=strategies.any_event)
def test_generated_events_round_trip(codec: AvroCodec, event: Event) -> None:
    """Any valid event, at the edges of every field's range, survives encode and decode."""
    assert codec.decode(codec.encode(event)) == event


@settings(max_examples=50, deadline=None)
@given(event=strategies.any_event)
def test_decoding_to_the_events_own_type_gives_it_back(codec: AvroCodec, event: Event) -> None:
    """Naming the reader type explicitly gives the same result as letting the codec choose."""
    assert codec.decode(codec.encode(event), reader=type(event)) == event


@settings(max_examples=200, deadline=None)
@given(event=strategies.any_event)
def test_bytes_are_what_fastavro_writes_from_the_model_dump(codec: AvroCodec, event: Event) -> None:
    """The codec's own conversions (event id to string, time to epoch milliseconds, nested
    models to dicts) give byte for byte what fastavro writes from `model_dump()` with the writer
    schema and its logical types."""
    schema = codec.writer_schema(type(event))
    body = BytesIO()
    schemaless_writer(body, schema.parsed, event.model_dump())

    assert codec.encode(event) == schema.header + body.getvalue()


@settings(max_examples=50, deadline=None)
@given(event=strategies.any_event)
def test_encode_with_id_gives_the_id_it_wrote(codec: AvroCodec, event: Event) -> None:
    """`encode_with_id` gives `encode`'s bytes and the event id as the bytes hold it."""
    value, event_id = codec.encode_with_id(event)

    assert value == codec.encode(event)
    assert event_id == str(event.event_id) == str(codec.decode(value).event_id)


@pytest.mark.parametrize("number", [0, 1, 2**64, 2**128 - 1])
def test_event_id_is_written_in_the_canonical_uuid_form(codec: AvroCodec, number: int) -> None:
    """Ids with leading zeros or all bits set are written as `str(UUID)` writes them."""
    event = samples.signup("u-1").model_copy(update={"event_id": UUID(int=number)}).validated()

    value, event_id = codec.encode_with_id(event)

    assert event_id == str(UUID(int=number))
    assert codec.decode(value).event_id == UUID(int=number)


def test_value_is_marker_fingerprint_and_plain_avro_body(codec: AvroCodec) -> None:
    """The bytes are C3 01, the writer schema's CRC-64-AVRO fingerprint, then a body any Avro
    library reads with the schema alone."""
    event = samples.order_placed()
    schema = codec.writer_schema(OrderPlaced)

    data = codec.encode(event)

    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == schema.fingerprint
    body = BytesIO(data[10:])
    record: Any = schemaless_reader(body, schema.parsed, None)
    assert body.tell() == len(data) - 10
    assert record["order_id"] == "o-1"
    assert [item["quantity"] for item in record["items"]] == [1, 2, 3]
    assert record["priority"] == "HIGH"


def test_fingerprint_matches_the_avro_specifications_test_vector() -> None:
    """CRC-64-AVRO of `"null"` is 7195948357588979594 (Avro's schema-tests), little-endian."""
    assert fingerprint('"null"') == (7195948357588979594).to_bytes(8, "little", signed=True)


def test_fingerprint_ignores_docs_and_logical_types(codec: AvroCodec) -> None:
    """The fingerprint is taken over the Parsing Canonical Form, as other languages compute it."""
    schema = codec.writer_schema(OrderPlaced)

    assert "doc" not in schema.canonical
    assert "logicalType" not in schema.canonical
    assert schema.canonical.startswith('{"name":"conveyor.events.OrderPlaced","type":"record"')


def test_key_is_the_entity_id() -> None:
    """Each event's Kafka key is its entity id: user id for users, order id for orders."""
    keys = {type(e).__name__: e.key for e in samples.every_event()}

    assert keys["UserSignedUp"] in {"u-1", "u-2"}
    assert keys["OrderPlaced"] == keys["OrderShipped"] == "o-1"
