"""Events written as Avro records: `RecordWriter`, without `model_dump`'s copy of every value.

A validated model's `__dict__` already holds what Avro needs (str, int, UUID, datetime, enum
members); only nested models (an order's items) must become dicts. The two fields every event
has are converted here rather than by fastavro's per-value logical-type dispatch: `event_id`
becomes its string once, which is also the `event-id` header's value, and `occurred_at` (UTC,
to the millisecond, as `Event` guarantees) its epoch milliseconds.
"""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any, Final

from fastavro import parse_schema, schemaless_writer
from pydantic import BaseModel, ValidationError

from conveyor.codec.errors import InvalidEventError, validation_summary
from conveyor.codec.schema_set import TIMESTAMP_MILLIS, SchemaVersion, with_plain_fields
from conveyor.events.base import Event

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND: Final = timedelta(milliseconds=1)
# The fields of `Event` that `RecordWriter` converts, with the logical type it converts.
_BASE_FIELDS: Final = {
    "event_id": {"type": "string", "logicalType": "uuid"},
    "occurred_at": TIMESTAMP_MILLIS,
}


class RecordWriter:
    """Encodes events of one model with one writer schema version: validates them (when they
    were built without validation), then writes the single-object header and the Avro body.

    The schema it gives fastavro is the writer's with `event_id` as a plain string and
    `occurred_at` as a plain long (the same bytes: these are the logical types' encodings), so
    fastavro converts neither; where a schema declares those fields otherwise, fastavro does.
    Stateless after construction, so shared by threads.
    """

    __slots__ = ("_converts_id", "_converts_time", "_header", "_label", "_nested", "_schema")

    def __init__(self, model: type[Event], schema: SchemaVersion) -> None:
        raw, converted = with_plain_fields(
            schema.raw, lambda name, kind: _BASE_FIELDS.get(name) == kind
        )
        self._schema = parse_schema(raw, {})
        self._converts_id = "event_id" in converted
        self._converts_time = "occurred_at" in converted
        self._header = schema.header
        self._nested = _nested_fields(model)
        self._label = schema.label

    def encode(self, event: Event) -> tuple[bytes, str]:
        """The encoded event and its id as written (what the `event-id` header carries);
        `InvalidEventError` for an event that fails its model or the schema."""
        try:
            event = event.validated()
        except ValidationError as exc:
            raise InvalidEventError(
                f"invalid {type(event).__name__}, not encoded: {validation_summary(exc)}"
            ) from exc
        values = event.__dict__
        record = _copy_with_plain_nested(values, self._nested)
        # str(UUID), the canonical 8-4-4-4-12 lowercase form, in a quarter less time.
        digits = values["event_id"].int.to_bytes(16).hex()
        event_id = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
        if self._converts_id:
            record["event_id"] = event_id
        if self._converts_time:
            record["occurred_at"] = (values["occurred_at"] - _EPOCH) // _MILLISECOND
        buffer = BytesIO()
        buffer.write(self._header)
        try:
            schemaless_writer(buffer, self._schema, record)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a lone surrogate in a str
            raise InvalidEventError(
                f"{type(event).__name__} passed its model but not {self._label}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return buffer.getvalue(), event_id


def to_record(model: BaseModel) -> dict[str, Any]:
    """The model's field values by name, nested models as dicts of theirs."""
    nested = _nested_fields(type(model))
    return _copy_with_plain_nested(model.__dict__, nested) if nested else model.__dict__


def _copy_with_plain_nested(values: dict[str, Any], nested: tuple[str, ...]) -> dict[str, Any]:
    """A copy of a model's values with its `nested` fields' models as dicts."""
    record = values.copy()
    for name in nested:
        record[name] = _plain(values[name])
    return record


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is tuple or kind is list or isinstance(value, list | tuple):
        # An order's items: models without nested models of their own give their `__dict__`
        # as it is, without a call each.
        flat = _NESTED.get
        return [item.__dict__ if flat(type(item)) == () else _plain(item) for item in value]
    if kind in _NESTED or isinstance(value, BaseModel):
        return to_record(value)
    if kind is dict:  # a map of records (or of lists of them)
        return {key: _plain(item) for key, item in value.items()}
    return value


# Model type -> its fields whose type mentions a model; `()` for models without any.
_NESTED: dict[type[BaseModel], tuple[str, ...]] = {}


def _nested_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields whose type mentions a model (`tuple[OrderItem, ...]`, `Item | None`,
    `dict[str, Address]`)."""
    nested = _NESTED.get(model)
    if nested is None:
        nested = _NESTED[model] = tuple(
            name for name, field in model.model_fields.items() if _mentions_model(field.annotation)
        )
    return nested


def _mentions_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_mentions_model(arg) for arg in typing.get_args(annotation))
