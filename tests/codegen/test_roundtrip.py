"""Models generated from the fixture schema with every Avro type encode and decode with the codec
exactly as hand-written models do: any valid event comes back equal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.codec import AvroCodec, SchemaSet
from conveyor.events import Event
from conveyor.events.fields import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN
from tests.codegen.support import EVERY_TYPE, import_generated

SCHEMAS = SchemaSet.load(EVERY_TYPE)
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # no lone surrogates
instants = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC))
wall_clock = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1))


def _decimals(schema: dict[str, Any]) -> st.SearchStrategy[Decimal]:
    precision, scale = schema["precision"], schema.get("scale", 0)
    bound = Decimal(10) ** (precision - scale) - Decimal(10) ** -scale
    return st.decimals(-bound, bound, places=scale, allow_nan=False, allow_infinity=False)


LOGICAL: dict[str, Callable[[dict[str, Any]], st.SearchStrategy[Any]]] = {
    "uuid": lambda _: st.uuids(),
    "decimal": _decimals,
    "date": lambda _: st.dates(),
    "time-millis": lambda _: st.times(),
    "time-micros": lambda _: st.times(),
    "timestamp-millis": lambda _: instants,
    "timestamp-micros": lambda _: instants,
    "local-timestamp-millis": lambda _: wall_clock,
    "local-timestamp-micros": lambda _: wall_clock,
}
PRIMITIVES: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "int": st.integers(INT_MIN, INT_MAX),
    "long": st.integers(LONG_MIN, LONG_MAX),
    "float": st.floats(width=32, allow_nan=False),
    "double": st.floats(allow_nan=False),
    "bytes": st.binary(max_size=12),
    "string": texts,
}


def values(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:  # noqa: PLR0911 (a type switch)
    """Any value of an Avro `schema` (fastavro's parsed form), as a model accepts it."""
    if isinstance(schema, list):
        return st.one_of([values(branch, named) for branch in schema])
    if isinstance(schema, str):
        return PRIMITIVES[schema] if schema in PRIMITIVES else values(named[schema], named)
    kind = schema["type"]
    if schema.get("logicalType") in LOGICAL:
        return LOGICAL[schema["logicalType"]](schema)
    if kind in ("record", "enum", "fixed"):
        named[schema["name"]] = schema
    if kind == "record":
        fields = {f["name"]: values(f["type"], named) for f in schema["fields"]}
        return st.fixed_dictionaries(fields)
    if kind == "enum":
        return st.sampled_from(schema["symbols"])
    if kind == "fixed":
        return st.binary(min_size=schema["size"], max_size=schema["size"])
    if kind == "array":
        return st.lists(values(schema["items"], named), max_size=3)
    if kind == "map":
        return st.dictionaries(texts, values(schema["values"], named), max_size=3)
    return PRIMITIVES[kind]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return import_generated(EVERY_TYPE, tmp_path_factory.mktemp("models"), "every_type_models")


@pytest.fixture(scope="module")
def codec(generated: ModuleType) -> AvroCodec:
    return AvroCodec(SCHEMAS, event_types=generated.EVENT_TYPES)


def _events(full_name: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = SCHEMAS.get(full_name)
    assert schema is not None
    return values(schema.parsed, {})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=_events("acme.shop.Everything"))
def test_every_type_roundtrips_through_the_codec(
    generated: ModuleType, codec: AvroCodec, fields: dict[str, Any]
) -> None:
    """Any valid `Everything` (every Avro type, nested records, enums, unions, arrays, maps,
    logical types) decodes from its encoding into an equal event."""
    event: Event = generated.Everything.model_validate(fields)
    assert codec.decode(codec.encode(event)) == event
