"""How the codec reads one writer schema version into one model, and the typed errors of doing so.

A `Route` holds everything `AvroCodec.decode` needs after one dictionary lookup: the schemas to
give fastavro, which fields to turn from Avro `timestamp-millis` longs into datetimes, and the
validator of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError

from conveyor.codec.errors import (
    CorruptBodyError,
    InvalidPayloadError,
    UnresolvableSchemaError,
    validation_summary,
)
from conveyor.codec.framing import HEADER_SIZE
from conveyor.codec.schema_set import SchemaVersion
from conveyor.events import Event

# What fastavro raises on bytes that do not match the writer schema: short reads, bad varints,
# enum or union indexes out of range, invalid UTF-8, negative lengths; and what a timestamp out
# of datetime's range raises (OverflowError), in fastavro or in `timestamp_millis`.
CORRUPT_BODY: Final = (
    EOFError,
    StopIteration,
    IndexError,
    ValueError,
    UnicodeDecodeError,
    OverflowError,
)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Below 2**33 seconds (1970 to 2242) a double holds `millis / 1000` within half its ulp, at most
# 2**-21 s (0.48 us): `fromtimestamp`, rounding to the nearest microsecond, lands exactly on the
# millisecond. Further out it may not, and negative stamps fail on some platforms.
_FLOAT_EXACT_BELOW: Final = 2**33 * 1000


def timestamp_millis(millis: int) -> datetime:
    """Avro `timestamp-millis` as fastavro reads it (`epoch + timedelta(microseconds=n * 1000)`):
    the UTC epoch plus `millis` milliseconds, tzinfo `UTC`; out of datetime's range raises
    OverflowError. `fromtimestamp` is the faster way where it is exact."""
    if 0 <= millis < _FLOAT_EXACT_BELOW:
        return datetime.fromtimestamp(millis / 1000, UTC)
    return _EPOCH + timedelta(0, 0, 0, millis)


@dataclass(frozen=True, slots=True)
class Route:
    """How values of one writer schema version are read: resolved to which version, into which
    model."""

    writer: SchemaVersion
    reader: SchemaVersion
    model: type[Event]
    read_as: Any  # the writer schema as fastavro reads it
    resolve_to: Any  # the reader schema for fastavro; None when it is the writer's: no resolution
    millis_fields: tuple[str, ...]  # read as longs, made datetimes by `timestamp_millis`
    validate: Callable[..., Any]  # the model's pydantic-core validator, `model_validate` unwrapped

    def unresolvable(self, data: bytes, exc: Exception) -> UnresolvableSchemaError:
        return UnresolvableSchemaError(
            f"cannot read {self.writer.label} as {self.reader.label}: {exc}", bytes(data)
        )

    def corrupt(self, data: bytes, exc: Exception) -> CorruptBodyError:
        return CorruptBodyError(
            f"corrupt or truncated {self.writer.label} body ({len(data) - HEADER_SIZE} bytes): "
            f"{type(exc).__name__}: {exc}",
            bytes(data),
        )

    def trailing(self, data: bytes, read_up_to: int) -> CorruptBodyError:
        return CorruptBodyError(
            f"{self.writer.label} body has {len(data) - read_up_to} trailing bytes", bytes(data)
        )

    def invalid(self, data: bytes, exc: ValidationError) -> InvalidPayloadError:
        return InvalidPayloadError(
            f"{self.writer.label} decoded but breaks {self.model.__name__}'s rules: "
            f"{validation_summary(exc)}",
            bytes(data),
        )


def route_for(writer: SchemaVersion, reader: SchemaVersion, model: type[Event]) -> Route:
    """The route of `writer`'s values into `model`, whose schema version is `reader`."""
    validate = model.__pydantic_validator__.validate_python
    if reader is not writer:
        # Resolving reads keep fastavro's own logical types: it applies the writer's to the
        # field the reader names, aliases included.
        return Route(writer, reader, model, writer.reading, reader.reading, (), validate)
    millis = writer.millis_fields
    return Route(writer, reader, model, writer.reading_millis, None, millis, validate)
