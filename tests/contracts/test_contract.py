"""The hand-written models and the Avro schemas (the source of truth) say the same thing.

Each model is compared with the newest version of its schema: field names and order, types
(including Avro's int/long ranges, logical types, enums and nested records), optionality and
defaults. Both sides are reduced to one textual shape per field so a failure reads like a diff.
"""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.codec import SchemaSet, SchemaVersion
from conveyor.events import Event
from conveyor.events.fields import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN
from shop_events import EVENT_TYPES, TOPICS, event_types_of
from tests.project import repo_codec

GENERATED = {"event_id", "occurred_at"}  # filled in by the model when not given


def avro_shape(schema: Any) -> str:  # noqa: PLR0911 (a type switch: one return per kind)
    """One Avro type as text: `long`, `uuid`, `optional string`, `array<record Item{...}>`."""
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        others = [avro_shape(s) for s in schema if s != "null"]
        assert schema[0] == "null", f"the default (null) comes first in a union: {schema}"
        assert len(others) == 1, f"only [null, X] unions: {schema}"
        return f"optional {others[0]}"
    if "logicalType" in schema:
        return str(schema["logicalType"])
    kind = schema["type"]
    if kind == "array":
        return f"array<{avro_shape(schema['items'])}>"
    if kind == "enum":
        return f"enum {schema['name']}[{','.join(schema['symbols'])}]"
    if kind == "record":
        fields = ",".join(f"{f['name']}:{avro_shape(f['type'])}" for f in schema["fields"])
        return f"record {schema['name']}{{{fields}}}"
    return avro_shape(kind)


def model_shape(prop: dict[str, Any], defs: dict[str, Any]) -> str:  # noqa: PLR0911 (as above)
    """The same text for one property of a model's JSON schema."""
    if "$ref" in prop:
        return model_shape(defs[prop["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in prop:
        others = [model_shape(p, defs) for p in prop["anyOf"] if p != {"type": "null"}]
        assert len(others) == 1, prop
        assert {"type": "null"} in prop["anyOf"], prop
        return f"optional {others[0]}"
    if "enum" in prop:
        return f"enum {prop['title']}[{','.join(prop['enum'])}]"
    kind = prop["type"]
    if kind == "string":
        return {"uuid": "uuid", "date-time": "timestamp-millis"}.get(
            prop.get("format", ""), "string"
        )
    if kind == "integer":
        low, high = prop.get("minimum", -(2**100)), prop.get("maximum", 2**100)
        if low >= INT_MIN and high <= INT_MAX:
            return "int"
        if low >= LONG_MIN and high <= LONG_MAX:
            return "long"
        return "integer without a 64-bit range"
    if kind == "array":
        return f"array<{model_shape(prop['items'], defs)}>"
    if kind == "object":
        fields = ",".join(f"{n}:{model_shape(p, defs)}" for n, p in prop["properties"].items())
        return f"record {prop['title']}{{{fields}}}"
    return f"unmapped {kind}"


def newest(model: type[Event]) -> SchemaVersion:
    schema = repo_codec().schemas.get(model.AVRO_NAME)
    assert schema is not None, f"no schema for {model.AVRO_NAME}"
    return schema


MODELS = list(EVENT_TYPES.values())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_fields_and_types_match_the_newest_schema(model: type[Event]) -> None:
    """Same field names in the same order, each with the same type."""
    json_schema = model.model_json_schema()
    defs = json_schema.get("$defs", {})

    from_model = [(n, model_shape(p, defs)) for n, p in json_schema["properties"].items()]
    from_schema = [(f["name"], avro_shape(f["type"])) for f in newest(model).raw["fields"]]

    assert from_model == from_schema


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_optionality_and_defaults_match(model: type[Event]) -> None:
    """A field has a schema default exactly when the model has the same default; fields
    without one are required by the model (event id and time are generated, not defaulted)."""
    json_schema = model.model_json_schema()
    for field in newest(model).raw["fields"]:
        name, prop = field["name"], json_schema["properties"][field["name"]]
        if "default" in field:
            assert prop.get("default", "(none)") == field["default"], name
            assert name not in json_schema.get("required", []), name
        elif name in GENERATED:
            assert model.model_fields[name].default_factory is not None, name
        else:
            assert name in json_schema["required"], f"{name} is required on the wire"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_model_knows_its_topic_key_and_name(model: type[Event]) -> None:
    """The key field is a required string field; the topic lists the event; names agree."""
    assert newest(model).full_name == model.AVRO_NAME
    assert f"conveyor.events.{model.__name__}" == model.AVRO_NAME
    assert model.KEY_FIELD in {"user_id", "order_id"}
    assert model.model_fields[model.KEY_FIELD].is_required()
    assert model in event_types_of(model.TOPIC)


def test_topics_are_the_designed_ones() -> None:
    """Users on user.signup, the order lifecycle on order.events (DESIGN.md's table)."""
    assert TOPICS == ("user.signup", "order.events")
    assert [m.__name__ for m in event_types_of("order.events")] == [
        "OrderPlaced",
        "OrderPaid",
        "OrderPaymentFailed",
        "OrderShipped",
        "OrderCancelled",
    ]


def test_every_schema_has_a_model_and_docs_everywhere() -> None:
    """No orphan schema; every record, enum and field in every version carries a doc."""
    schemas: SchemaSet = repo_codec().schemas
    assert set(schemas.names()) == set(EVENT_TYPES)
    for version in schemas:
        assert version.raw["namespace"] == "conveyor.events", version.path
        for node in _named_and_fields(version.raw):
            assert str(node.get("doc", "")).strip(), (
                f"{version.path}: {node.get('name')} has no doc"
            )


def _named_and_fields(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, list):
        return [n for s in schema for n in _named_and_fields(s)]
    if not isinstance(schema, dict):
        return []
    found: list[dict[str, Any]] = []
    if schema.get("type") in {"record", "enum"}:
        found.append(schema)
    for field in schema.get("fields", []):
        found.append(field)
        found.extend(_named_and_fields(field["type"]))
    found.extend(_named_and_fields(schema.get("items")))
    return found
