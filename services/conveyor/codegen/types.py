"""Avro types to Python type expressions, and the named types (records, enums) a schema defines.

Pure functions over fastavro's parsed schemas: there a named type is defined once, with its full
name, and referred to by that name afterwards.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from conveyor.codegen.errors import GenerationError

Import = tuple[str, str]  # (module, name)

_PRIMITIVES: Final[Mapping[str, tuple[str, tuple[Import, ...]]]] = {
    "null": ("None", ()),
    "boolean": ("bool", ()),
    "int": ("AvroInt", (("conveyor.events.avro_types", "AvroInt"),)),
    "long": ("AvroLong", (("conveyor.events.avro_types", "AvroLong"),)),
    "float": ("AvroFloat", (("conveyor.events.avro_types", "AvroFloat"),)),
    "double": ("float", ()),
    "bytes": ("bytes", ()),
    "string": ("str", ()),
}

# Logical types fastavro converts, by (logical type, underlying type), to the alias that holds
# the value as fastavro reads it back.
_LOGICAL: Final[Mapping[tuple[str, str], str]] = {
    ("uuid", "string"): "UUID",
    ("date", "int"): "Date",
    ("time-millis", "int"): "TimeMillis",
    ("time-micros", "long"): "TimeMicros",
    ("timestamp-millis", "long"): "TimestampMillis",
    ("timestamp-micros", "long"): "TimestampMicros",
    ("local-timestamp-millis", "long"): "LocalTimestampMillis",
    ("local-timestamp-micros", "long"): "LocalTimestampMicros",
}


@dataclass(frozen=True)
class Named:
    """A record or enum a schema defines, and the file that defines it."""

    full_name: str
    schema: dict[str, Any]
    source: Path

    @property
    def kind(self) -> str:
        return str(self.schema["type"])

    @property
    def short_name(self) -> str:
        return self.full_name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Names:
    """The named types of a module by full name: the Python name of each record, enum and fixed
    type, and the definition of each fixed type (an alias, not a class)."""

    classes: Mapping[str, str]
    fixed: Mapping[str, dict[str, Any]]


@dataclass(frozen=True)
class Alias:
    """A module-level type alias a type expression uses: `Digest = Annotated[bytes, ...]`."""

    name: str
    definition: str
    doc: str


@dataclass(frozen=True)
class PyType:
    """A Python type expression, the imports it needs and the aliases it uses."""

    expression: str
    imports: frozenset[Import] = frozenset()
    aliases: frozenset[Alias] = frozenset()


def named_types(schema: Any, source: Path) -> Iterator[Named]:
    """Every record and enum defined in `schema`, each after the named types its fields use
    (the order a module must define them in), the outer record last."""
    if isinstance(schema, list):
        for branch in schema:
            yield from named_types(branch, source)
        return
    if not isinstance(schema, dict):
        return  # a primitive, or a reference to a type defined earlier
    kind = schema["type"]
    if kind == "record":
        for field in schema["fields"]:
            yield from named_types(field["type"], source)
        yield Named(schema["name"], schema, source)
    elif kind == "enum":
        yield Named(schema["name"], schema, source)
    elif kind == "array":
        yield from named_types(schema["items"], source)
    elif kind == "map":
        yield from named_types(schema["values"], source)


def fixed_types(schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The full name and definition of every fixed type `schema` defines (referred to by name
    afterwards, and made a constrained `bytes` or `Decimal` rather than a class)."""
    if isinstance(schema, list):
        for branch in schema:
            yield from fixed_types(branch)
    elif isinstance(schema, dict):
        if schema["type"] == "fixed":
            yield schema["name"], schema
        for child in (schema.get("items"), schema.get("values")):
            if child is not None:
                yield from fixed_types(child)
        for field in schema.get("fields", ()):
            yield from fixed_types(field["type"])


def check_field_name(name: str, reserved: frozenset[str], owner: Named) -> None:
    """A field name that is also a usable, unshadowing Python attribute name."""
    problem = None
    if keyword.iskeyword(name):
        problem = "is a Python keyword"
    elif name.startswith("_"):
        problem = "starts with an underscore (private to pydantic)"
    elif name.startswith("model_") or name in reserved:
        problem = "is the name of a method or attribute every model has"
    if problem is not None:
        raise GenerationError(
            owner.source,
            f"field {name} of {owner.full_name} {problem}: rename it in the schema",
        )


def python_type(schema: Any, names: Names) -> PyType:  # noqa: PLR0911 (a type switch)
    """The type of a value of `schema`, named types found in `names`."""
    if isinstance(schema, list):
        return _union(schema, names)
    if isinstance(schema, str):
        if schema in _PRIMITIVES:
            expression, imports = _PRIMITIVES[schema]
            return PyType(expression, frozenset(imports))
        if schema in names.fixed:
            return python_type(names.fixed[schema], names)
        return PyType(names.classes[schema])
    kind = schema["type"]
    logical = schema.get("logicalType")
    if kind == "fixed" or (logical == "decimal" and kind == "bytes"):
        return _bytes_alias(schema, names)
    alias = _LOGICAL.get((str(logical), str(kind)))
    if alias == "UUID":
        return PyType("UUID", frozenset({("uuid", "UUID")}))
    if alias is not None:
        return PyType(alias, frozenset({("conveyor.events.avro_types", alias)}))
    if kind in ("record", "enum"):
        return PyType(names.classes[schema["name"]])
    if kind == "array":
        items = python_type(schema["items"], names)
        return PyType(f"list[{items.expression}]", items.imports, items.aliases)
    if kind == "map":
        values = python_type(schema["values"], names)
        return PyType(f"dict[str, {values.expression}]", values.imports, values.aliases)
    return python_type(kind, names)  # {"type": "int"}, or an unknown logical type


def _union(branches: list[Any], names: Names) -> PyType:
    types = [python_type(b, names) for b in branches if b != "null"]
    expressions = [t.expression for t in types] + (["None"] if "null" in branches else [])
    return PyType(
        " | ".join(dict.fromkeys(expressions)),
        frozenset().union(*(t.imports for t in types)),
        frozenset().union(*(t.aliases for t in types)),
    )


def _bytes_alias(schema: dict[str, Any], names: Names) -> PyType:
    """A fixed type or a decimal, as a module-level alias of a constrained `bytes` or `Decimal`
    named after the fixed type (or `Decimal_<precision>_<scale>`): it keeps the fields' lines
    short. A decimal's precision and scale stay in the type, so a value with more digits is
    refused by the model rather than rounded by the encoder."""
    imports = {("typing", "Annotated"), ("pydantic", "Field")}
    fixed = schema["type"] == "fixed"
    wire = f"{schema['size']} bytes" if fixed else "bytes"
    if schema.get("logicalType") == "decimal":
        precision, scale = int(schema["precision"]), int(schema.get("scale", 0))
        imports.add(("decimal", "Decimal"))
        definition = f"Annotated[Decimal, Field(max_digits={precision}, decimal_places={scale})]"
        name, doc = f"Decimal_{precision}_{scale}", f"decimal({precision}, {scale}) in {wire}"
    else:
        size = int(schema["size"])
        definition = f"Annotated[bytes, Field(min_length={size}, max_length={size})]"
        name, doc = "", wire
    if fixed:
        name, doc = names.classes[schema["name"]], f"fixed `{schema['name']}`: {doc}"
    alias = Alias(name, definition, f"Avro {doc}.")
    return PyType(name, frozenset(imports), frozenset({alias}))


def member_name(symbol: str) -> str:
    """The `StrEnum` member of an enum symbol: the symbol, with a `_` after a Python keyword."""
    return f"{symbol}_" if keyword.iskeyword(symbol) else symbol


def is_optional(schema: Any) -> bool:
    """A union with null: the field may be left out of the model (it then holds None)."""
    return isinstance(schema, list) and "null" in schema
