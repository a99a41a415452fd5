"""Undecodable bytes raise typed errors that keep the bytes; invalid events are never encoded."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path
from typing import ClassVar

import pytest
from fastavro import schemaless_writer

from conveyor.codec import (
    AvroCodec,
    CorruptBodyError,
    DecodeError,
    InvalidEventError,
    InvalidPayloadError,
    NotSingleObjectError,
    SchemaSet,
    UnknownEventSchemaError,
    UnknownFingerprintError,
    UnresolvableSchemaError,
)
from conveyor.errors import ConveyorError
from conveyor.events import Event
from shop_events import OrderItem, OrderPaid, OrderPlaced, UserSignedUp
from tests import samples
from tests.project import repo_codec


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return repo_codec()


@pytest.fixture(scope="module")
def order_bytes(codec: AvroCodec) -> bytes:
    return codec.encode(samples.order_placed())


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc3", b"\xc3\x01\x00", b'{"order_id": "o-1"}', b"\x00\x00\x00\x00\x01payload!!"],
    ids=["empty", "half-marker", "short-fingerprint", "json", "schema-registry-framing"],
)
def test_bytes_without_the_single_object_marker_are_rejected(codec: AvroCodec, data: bytes) -> None:
    """Anything not starting with C3 01 and a full fingerprint is not single-object encoded."""
    with pytest.raises(NotSingleObjectError) as caught:
        codec.decode(data)

    assert caught.value.data == data


def test_unknown_fingerprint_is_rejected(codec: AvroCodec, order_bytes: bytes) -> None:
    """A fingerprint of no schema version in schemas/ cannot be decoded."""
    data = b"\xc3\x01" + bytes.fromhex("0123456789abcdef") + order_bytes[10:]

    with pytest.raises(UnknownFingerprintError, match="0123456789abcdef") as caught:
        codec.decode(data)

    assert caught.value.data == data


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_truncated_body_is_rejected(codec: AvroCodec, order_bytes: bytes, cut: int) -> None:
    """A body cut short anywhere is reported as corrupt, not half-decoded."""
    data = order_bytes[:-cut]

    with pytest.raises(CorruptBodyError) as caught:
        codec.decode(data)

    assert caught.value.data == data


def test_trailing_bytes_are_rejected(codec: AvroCodec, order_bytes: bytes) -> None:
    """Bytes after a complete body mean the value is not what it claims to be."""
    with pytest.raises(CorruptBodyError, match="trailing"):
        codec.decode(order_bytes + b"\x00")


def test_enum_index_out_of_range_is_corrupt(codec: AvroCodec, order_bytes: bytes) -> None:
    """A priority index no symbol has (the body's last varint) is a corrupt body."""
    data = order_bytes[:-1] + b"\x7e"  # zig-zag 63, Priority has 3 symbols

    with pytest.raises(CorruptBodyError):
        codec.decode(data)


def test_invalid_utf8_is_corrupt(codec: AvroCodec) -> None:
    """A string field holding bytes that are not UTF-8 is a corrupt body."""
    data = codec.encode(OrderPaid(order_id="o-\u00e9", payment_id="p", amount=1, currency="EUR"))
    start = data.index("o-\u00e9".encode())
    broken = data[: start + 2] + b"\xff\xff" + data[start + 4 :]

    with pytest.raises(CorruptBodyError):
        codec.decode(broken)


def test_schema_valid_body_breaking_the_model_is_rejected(codec: AvroCodec) -> None:
    """A producer outside conveyor may write what the schema allows and the model does not."""
    schema = codec.writer_schema(OrderPlaced)
    record = samples.order_placed().model_dump()
    record["items"] = [{"sku": "A", "quantity": 0, "unit_price": 1}]
    body = BytesIO()
    schemaless_writer(body, schema.parsed, record)
    data = b"\xc3\x01" + schema.fingerprint + body.getvalue()

    with pytest.raises(InvalidPayloadError, match=r"items\.0\.quantity"):
        codec.decode(data)


@pytest.mark.parametrize("event_id", ["not-a-uuid", "", "12345678-1234-1234-1234-12345678901"])
def test_event_id_that_is_no_uuid_is_rejected(codec: AvroCodec, event_id: str) -> None:
    """A string that is no UUID in the `uuid` field is refused with a typed error."""
    schema = codec.writer_schema(OrderPlaced)
    record = {**samples.order_placed().model_dump(), "event_id": event_id}
    body = BytesIO()
    schemaless_writer(body, schema.reading, record)
    data = b"\xc3\x01" + schema.fingerprint + body.getvalue()

    with pytest.raises(InvalidPayloadError, match="event_id"):
        codec.decode(data)


def test_writer_and_reader_of_different_records_do_not_resolve(
    codec: AvroCodec, order_bytes: bytes
) -> None:
    """Reading an OrderPlaced as a UserSignedUp breaks Avro's resolution rules."""
    with pytest.raises(UnresolvableSchemaError, match="OrderPlaced v1 as UserSignedUp v2"):
        codec.decode(order_bytes, reader=UserSignedUp)


def test_decode_errors_carry_their_origin_once_attached(codec: AvroCodec) -> None:
    """The consumer runtime attaches topic, partition and offset; the message then names them."""
    with pytest.raises(DecodeError) as caught:
        codec.decode(b"junk")
    error = caught.value.at("order.events", 2, 4711)

    assert (error.topic, error.partition, error.offset) == ("order.events", 2, 4711)
    assert "order.events[2]@4711" in str(error)
    assert isinstance(error, ConveyorError)


@pytest.mark.parametrize(
    "event",
    [
        OrderPaid.model_construct(order_id="o-1"),  # type: ignore[call-arg]
        OrderPaid.model_construct(order_id="o-1", payment_id="p", amount="12", currency="EUR"),  # type: ignore[arg-type]
        OrderPaid.model_construct(order_id="o-1", payment_id="p", amount=9.99, currency="EUR"),  # type: ignore[arg-type]
        OrderPaid.model_construct(order_id="o-1", payment_id="p", amount=-1, currency="EUR"),
        OrderPaid.model_construct(order_id="o-1", payment_id="p", amount=1, currency="euro"),
        OrderPaid(order_id="o-1", payment_id="p", amount=1, currency="EUR").model_copy(
            update={"amount": 2**63}
        ),
    ],
    ids=["missing-fields", "string-amount", "float-amount", "negative", "currency", "copy"],
)
def test_invalid_events_are_not_encoded(codec: AvroCodec, event: Event) -> None:
    """Events that skipped validation are validated on encode and fail before any byte exists."""
    with pytest.raises(
        InvalidEventError, match=r"invalid OrderPaid, not encoded: .*(amount|currency)"
    ):
        codec.encode(event)


def test_constructed_item_inside_a_valid_order_is_validated() -> None:
    """An item made with model_construct is checked again when put into an order."""
    with pytest.raises(ValueError, match="quantity"):
        OrderPlaced(
            order_id="o",
            user_id="u",
            items=[OrderItem.model_construct(sku="A", quantity=0, unit_price=1)],
            currency="EUR",
            total=0,
        )


def test_validation_errors_do_not_repeat_personal_data(codec: AvroCodec) -> None:
    """The message names fields and rules, never the values (an e-mail address stays out)."""
    event = UserSignedUp.model_construct(user_id="", email="ada@example.org", name="Ada")

    with pytest.raises(InvalidEventError) as caught:
        codec.encode(event)

    assert "user_id" in str(caught.value)
    assert "ada@example.org" not in str(caught.value)


def test_event_without_a_schema_is_not_encoded() -> None:
    """A codec whose schema set lacks the event's record refuses to encode it."""
    codec = AvroCodec(repo_codec().schemas, event_types={})

    with pytest.raises(UnknownEventSchemaError):
        codec.encode(samples.order_placed())


def test_copies_and_pickles_of_unvalidated_events_stay_unvalidated() -> None:
    """Copying or pickling a `model_construct`ed event does not launder it into a valid one."""
    import copy
    import pickle

    made = OrderPaid.model_construct(order_id="o-1")  # type: ignore[call-arg]
    valid = OrderPaid(order_id="o-1", payment_id="p", amount=1, currency="EUR")

    assert not made.is_validated
    assert not copy.copy(made).is_validated
    assert not copy.deepcopy(made).is_validated
    assert not pickle.loads(pickle.dumps(made)).is_validated
    assert not made.model_copy().is_validated
    assert not valid.model_copy(update={"amount": 2}).is_validated
    assert valid.is_validated
    assert valid.model_copy().is_validated
    assert pickle.loads(pickle.dumps(valid)).is_validated


class Probe(Event):
    """A model that disagrees with its schema: `n` is a string here, a long in Probe.v1.avsc."""

    TOPIC: ClassVar[str] = "probe"
    KEY_FIELD: ClassVar[str] = "n"
    AVRO_NAME: ClassVar[str] = "tests.Probe"

    n: str


def test_model_disagreeing_with_its_schema_fails_typed(tmp_path: Path) -> None:
    """When the Avro writer rejects a validated model's value, encode raises InvalidEventError."""
    fields = [
        {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "occurred_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "n", "type": "long"},
    ]
    schema = {"type": "record", "name": "Probe", "namespace": "tests", "fields": fields}
    (tmp_path / "Probe.v1.avsc").write_text(json.dumps(schema))
    codec = AvroCodec(SchemaSet.load(tmp_path), event_types={Probe.AVRO_NAME: Probe})

    with pytest.raises(InvalidEventError, match="Probe passed its model but not Probe v1"):
        codec.encode(Probe(n="seven"))
