"""The codec's fast decode paths give what the plain ones give: timestamps read as fastavro reads
them, and decodes with an explicit reader (remembered routes) checked as fully as the first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any, ClassVar

import pytest
from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import LOGICAL_READERS
from hypothesis import given, settings
from hypothesis import strategies as st

from conveyor.codec import (
    AvroCodec,
    CorruptBodyError,
    InvalidPayloadError,
    NotSingleObjectError,
    UnresolvableSchemaError,
)
from conveyor.codec.routes import timestamp_millis
from shop_events import EVENT_TYPES, OrderCancelled, OrderPaid, UserSignedUp
from tests import samples
from tests.project import repo_codec

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLI = timedelta(milliseconds=1)
# The first and last millisecond a datetime can hold.
_FIRST_MS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // _MILLI
_LAST_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - _EPOCH) // _MILLI
# Where the codec's timestamp conversion switches from `fromtimestamp` to timedelta arithmetic.
_FAST_BELOW = 2**33 * 1000


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return repo_codec()


def _cancelled_with_millis(codec: AvroCodec, millis: int) -> tuple[bytes, bytes]:
    """An OrderCancelled value whose `occurred_at` long is `millis`: (whole value, body)."""
    schema = codec.writer_schema(OrderCancelled)
    record = {
        "event_id": "0b0f7a7e-1d2c-4a8b-9c3d-123456789abc",
        "occurred_at": millis,
        "order_id": "o-1",
        "reason": "changed my mind",
    }
    body = BytesIO()
    schemaless_writer(body, schema.reading, record)
    return schema.header + body.getvalue(), body.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    millis=st.one_of(
        st.integers(min_value=_FIRST_MS, max_value=_LAST_MS),
        st.integers(min_value=0, max_value=_FAST_BELOW),
        st.sampled_from([0, -1, 1, _FAST_BELOW - 1, _FAST_BELOW, _FIRST_MS, _LAST_MS]),
    )
)
def test_timestamps_decode_as_fastavro_reads_them(codec: AvroCodec, millis: int) -> None:
    """Every timestamp-millis long, before 1970 and at the ends of datetime's range, decodes to
    the datetime fastavro's own logical type gives: same instant, same tzinfo (UTC)."""
    data, body = _cancelled_with_millis(codec, millis)
    schema = codec.writer_schema(OrderCancelled)
    record: Any = schemaless_reader(BytesIO(body), schema.parsed, None)
    expected = record["occurred_at"]

    decoded = codec.decode(data).occurred_at

    assert decoded == expected
    assert decoded.tzinfo is expected.tzinfo is UTC
    assert decoded.microsecond % 1000 == 0


@pytest.mark.parametrize("start", [0, _FAST_BELOW - 20_000, _FAST_BELOW])
def test_timestamp_conversion_is_exact_where_it_switches_ways(start: int) -> None:
    """At the ends of the codec's faster conversion, where a double's precision is thinnest,
    every millisecond gives exactly the datetime fastavro's own conversion gives."""
    fastavro_reads = LOGICAL_READERS["long-timestamp-millis"]

    for millis in range(start, start + 20_000):
        converted = timestamp_millis(millis)
        assert converted == fastavro_reads(millis, None, None)
        assert converted.tzinfo is UTC


@pytest.mark.parametrize("millis", [2**62, -(2**62)])
def test_timestamp_out_of_datetime_range_is_corrupt(codec: AvroCodec, millis: int) -> None:
    """A timestamp no datetime can hold is a corrupt body, as when fastavro converts it."""
    data, _ = _cancelled_with_millis(codec, millis)

    with pytest.raises(CorruptBodyError, match="OverflowError"):
        codec.decode(data)
    with pytest.raises(CorruptBodyError):
        codec.decode(data, reader=OrderCancelled)


def test_explicit_reader_decodes_stay_checked_after_the_first() -> None:
    """Once a reader's route is remembered, broken framing, bodies and payloads of the same
    writer schema still raise their typed errors."""
    codec = AvroCodec(repo_codec().schemas, event_types=EVENT_TYPES)
    good = codec.encode(OrderPaid(order_id="o-1", payment_id="p-1", amount=5, currency="EUR"))
    assert codec.decode(good, reader=OrderPaid) == codec.decode(good)

    with pytest.raises(NotSingleObjectError):
        codec.decode(b"\xc3\x02" + good[2:], reader=OrderPaid)
    with pytest.raises(CorruptBodyError):
        codec.decode(good[:-3], reader=OrderPaid)
    with pytest.raises(CorruptBodyError, match="trailing"):
        codec.decode(good + b"\x00", reader=OrderPaid)
    currency = good.rindex(b"EUR")
    with pytest.raises(InvalidPayloadError, match="currency"):
        codec.decode(good[:currency] + b"eur" + good[currency + 3 :], reader=OrderPaid)
    for _ in range(2):
        with pytest.raises(UnresolvableSchemaError):
            codec.decode(good, reader=UserSignedUp)


class _Paid(OrderPaid):
    """A reader type of its own for the same Avro record."""

    AVRO_NAME: ClassVar[str] = OrderPaid.AVRO_NAME


def test_reader_routes_beyond_the_cap_are_found_each_time() -> None:
    """Past the cap of remembered routes, decodes still give the reader's own type."""
    codec = AvroCodec(repo_codec().schemas, event_types=EVENT_TYPES, reader_routes_max=1)
    paid = OrderPaid(order_id="o-1", payment_id="p-1", amount=5, currency="EUR")
    data = codec.encode(paid)

    for _ in range(2):
        assert type(codec.decode(data, reader=OrderPaid)) is OrderPaid
        assert type(codec.decode(data, reader=_Paid)) is _Paid
        assert codec.decode(data, reader=_Paid).model_dump() == paid.model_dump()
    signup = codec.encode(samples.signup("u-1"))
    assert type(codec.decode(signup, reader=UserSignedUp)) is UserSignedUp
    assert len(codec._reader_routes) == 1  # what is remembered stays bounded
