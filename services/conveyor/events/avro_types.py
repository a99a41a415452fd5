"""Field types matching Avro's types and logical types, and the base of nested records: what the
models `conveyor schemas generate` writes are made of (hand-written models may use them too).

Each type accepts exactly what its Avro type can carry and holds a value as it comes back from
the wire, so a model encoded and decoded compares equal to itself: a `float` is rounded to
32 bits, a timestamp to its unit, in UTC.
"""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from conveyor.events.fields import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN

_FLOAT32 = struct.Struct("<f")


class Record(BaseModel):
    """A nested Avro record: immutable, and validated again when passed into another model, so
    an instance built with `model_construct` cannot slip into a valid event."""

    model_config = ConfigDict(frozen=True, extra="forbid", revalidate_instances="always")


def to_float32(value: float) -> float:
    """`value` rounded to the nearest 32-bit float, what Avro `float` keeps; too large raises."""
    try:
        return float(_FLOAT32.unpack(_FLOAT32.pack(value))[0])
    except OverflowError:
        raise ValueError(f"{value} is out of the range of an Avro float (32 bits)") from None


def to_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive time counts as UTC."""
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_utc_millis(value: datetime) -> datetime:
    """`value` in UTC, to the millisecond."""
    value = to_utc(value)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_naive_millis(value: datetime) -> datetime:
    """A local (zoneless) time to the millisecond; an aware one is refused."""
    if value.tzinfo is not None:
        raise ValueError("a local timestamp carries no time zone")
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_naive(value: datetime) -> datetime:
    """A local (zoneless) time; an aware one is refused."""
    if value.tzinfo is not None:
        raise ValueError("a local timestamp carries no time zone")
    return value


def to_time_millis(value: time) -> time:
    """A time of day to the millisecond, without a zone."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000, tzinfo=None)


def to_time_micros(value: time) -> time:
    """A time of day without a zone."""
    return value.replace(tzinfo=None)


AvroInt = Annotated[int, Field(strict=True, ge=INT_MIN, le=INT_MAX)]
"""Avro `int`: 32 bits, signed."""

AvroLong = Annotated[int, Field(strict=True, ge=LONG_MIN, le=LONG_MAX)]
"""Avro `long`: 64 bits, signed."""

AvroFloat = Annotated[float, AfterValidator(to_float32)]
"""Avro `float`: 32 bits, so the value is rounded to what the wire keeps."""

TimestampMillis = Annotated[datetime, AfterValidator(to_utc_millis)]
"""Avro `timestamp-millis`: an instant, in UTC, to the millisecond."""

TimestampMicros = Annotated[datetime, AfterValidator(to_utc)]
"""Avro `timestamp-micros`: an instant, in UTC, to the microsecond."""

LocalTimestampMillis = Annotated[datetime, AfterValidator(to_naive_millis)]
"""Avro `local-timestamp-millis`: a wall-clock time without a zone, to the millisecond."""

LocalTimestampMicros = Annotated[datetime, AfterValidator(to_naive)]
"""Avro `local-timestamp-micros`: a wall-clock time without a zone, to the microsecond."""

TimeMillis = Annotated[time, AfterValidator(to_time_millis)]
"""Avro `time-millis`: a time of day, to the millisecond."""

TimeMicros = Annotated[time, AfterValidator(to_time_micros)]
"""Avro `time-micros`: a time of day, to the microsecond."""

Date = date
"""Avro `date`: a calendar day."""
