"""Avro schema resolution rules, checked statically: can a reader schema read a writer's data?

This follows the "Schema Resolution" section of the Avro specification (fastavro applies the same
rules lazily, value by value, while reading; here they are checked for every branch at once) and
reports each problem with the field path it sits on, so callers can phrase it for people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from fastavro import parse_schema

# Writer type -> reader types it may be promoted to.
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
_NAMED = {"record", "enum", "fixed"}


class ProblemKind(StrEnum):
    FIELD_WITHOUT_DEFAULT = "field-without-default"  # reader field the writer lacks, no default
    TYPE_MISMATCH = "type-mismatch"
    NAME_MISMATCH = "name-mismatch"
    MISSING_ENUM_SYMBOLS = "missing-enum-symbols"  # writer symbols the reader lacks, no default
    MISSING_UNION_BRANCH = "missing-union-branch"  # a writer branch the reader cannot read
    FIXED_SIZE_MISMATCH = "fixed-size-mismatch"


@dataclass(frozen=True)
class Problem:
    """One reason the reader cannot read the writer's data, at `path` (e.g. `items[].sku`)."""

    kind: ProblemKind
    path: str
    writer: str  # the writer's side, in words (a type, or the symbols the reader lacks)
    reader: str  # the reader's side, in words


def expand(schema: dict[str, Any]) -> Any:
    """The schema with every named type reference replaced by its definition, names qualified."""
    return parse_schema(schema, {}, expand=True)


def describe(schema: Any) -> str:
    """A type in a few words: `long`, `timestamp-millis`, `record OrderItem`, `array<string>`."""
    if isinstance(schema, str):
        return _short(schema)
    if isinstance(schema, list):
        return " or ".join(describe(branch) for branch in schema)
    if "logicalType" in schema:
        return str(schema["logicalType"])
    kind, inner = schema["type"], {"array": "items", "map": "values"}.get(schema["type"])
    if inner:
        return f"{kind}<{describe(schema[inner])}>"
    return f"{kind} {_short(schema['name'])}" if kind in _NAMED else describe(kind)


def problems(reader: Any, writer: Any, path: str = "") -> list[Problem]:
    """Everything that stops `reader` (an expanded schema) from reading `writer`'s data."""
    if isinstance(writer, list):
        return _writer_union(reader, writer, path)
    if isinstance(reader, list):
        if any(not problems(branch, writer, path) for branch in reader):
            return []
        return [_problem(ProblemKind.TYPE_MISMATCH, path, writer, reader)]
    if not _types_match(reader, writer):
        return [_problem(ProblemKind.TYPE_MISMATCH, path, writer, reader)]
    if _kind(writer) in _NAMED and not _names_match(reader, writer):
        return [_problem(ProblemKind.NAME_MISMATCH, path, writer, reader)]
    check_inside = _INSIDE.get(_kind(writer))
    return check_inside(reader, writer, path) if check_inside else []


def _types_match(reader: Any, writer: Any) -> bool:
    """Same kind (or a promotion the spec allows) and the same logical type."""
    writer_kind, reader_kind = _kind(writer), _kind(reader)
    if writer_kind != reader_kind:
        return reader_kind in _PROMOTIONS.get(writer_kind, set())
    return _logical(writer) == _logical(reader)


def _writer_union(reader: Any, writer: list[Any], path: str) -> list[Problem]:
    found: list[Problem] = []
    for branch in writer:
        if problems(reader, branch, path):
            found.append(_problem(ProblemKind.MISSING_UNION_BRANCH, path, branch, reader))
    return found


def _records(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Problem]:
    writer_fields = {f["name"]: f for f in writer["fields"]}
    found: list[Problem] = []
    for field in reader["fields"]:
        field_path = f"{path}.{field['name']}" if path else field["name"]
        names = [field["name"], *field.get("aliases", [])]
        match = next((writer_fields[n] for n in names if n in writer_fields), None)
        if match is not None:
            found.extend(problems(field["type"], match["type"], field_path))
        elif "default" not in field:
            found.append(
                _problem(ProblemKind.FIELD_WITHOUT_DEFAULT, field_path, None, field["type"])
            )
    return found


def _enums(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Problem]:
    missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
    if not missing or "default" in reader:
        return []
    return [Problem(ProblemKind.MISSING_ENUM_SYMBOLS, path, ", ".join(missing), describe(reader))]


def _fixed(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Problem]:
    if reader["size"] == writer["size"]:
        return []
    return [
        Problem(ProblemKind.FIXED_SIZE_MISMATCH, path, str(writer["size"]), str(reader["size"]))
    ]


def _arrays(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Problem]:
    return problems(reader["items"], writer["items"], f"{path}[]")


def _maps(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Problem]:
    return problems(reader["values"], writer["values"], f"{path}{{}}")


_INSIDE: Final[dict[str, Callable[[Any, Any, str], list[Problem]]]] = {
    "record": _records,
    "enum": _enums,
    "fixed": _fixed,
    "array": _arrays,
    "map": _maps,
}


def _problem(kind: ProblemKind, path: str, writer: Any, reader: Any) -> Problem:
    return Problem(kind, path, "nothing" if writer is None else describe(writer), describe(reader))


def _kind(schema: Any) -> str:
    return schema if isinstance(schema, str) else _kind(schema["type"])


def _logical(schema: Any) -> str | None:
    return schema.get("logicalType") if isinstance(schema, dict) else None


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _names_match(reader: dict[str, Any], writer: dict[str, Any]) -> bool:
    """Unqualified names match, or the reader lists the writer's name among its aliases."""
    accepted = {_short(reader["name"]), *(_short(a) for a in reader.get("aliases", []))}
    return _short(writer["name"]) in accepted
