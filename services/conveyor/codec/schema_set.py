"""The Avro schemas of `schemas/`, parsed once and indexed by fingerprint and by record name.

Files are named `<Record>.v<N>.avsc` (any folder depth); `N` is the version, counted from 1.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from fastavro import parse_schema
from fastavro.schema import SchemaParseException, UnknownType

from conveyor.codec.errors import SchemaLoadError
from conveyor.codec.framing import canonical_form, fingerprint, header

_FILE_NAME = re.compile(r"^(?P<record>[A-Za-z_][A-Za-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.avsc$")
# The type of an Avro `timestamp-millis` field (a long underneath).
TIMESTAMP_MILLIS: Final = {"type": "long", "logicalType": "timestamp-millis"}


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one record schema."""

    full_name: str
    version: int
    path: Path
    raw: dict[str, Any] = field(repr=False)
    parsed: Any = field(repr=False)  # fastavro's parsed form, reused by every write
    # Parsed without the `uuid` logical type, what reads use: fastavro would build each UUID in
    # Python and the model validate it again; pydantic-core parses the string once, natively.
    reading: Any = field(repr=False)
    # `reading` with the record's own `timestamp-millis` fields as plain longs, for reads that
    # resolve nothing: the codec turns `millis_fields` into datetimes itself, as fastavro would
    # but without its per-value logical-type dispatch.
    reading_millis: Any = field(repr=False)
    millis_fields: tuple[str, ...]
    canonical: str = field(repr=False)
    fingerprint: bytes
    header: bytes = field(repr=False)  # C3 01 + fingerprint: how values of this version start

    @property
    def name(self) -> str:
        """The record's short name, e.g. `OrderPlaced`."""
        return self.full_name.rsplit(".", 1)[-1]

    @property
    def label(self) -> str:
        """How people name it: `OrderPlaced v2`."""
        return f"{self.name} v{self.version}"


def load_schema_file(path: Path) -> SchemaVersion:
    """Parse one `<Record>.v<N>.avsc` file; raise `SchemaLoadError` saying what is wrong."""
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise SchemaLoadError(f"{path}: schema files are named <Record>.v<N>.avsc")
    try:
        raw = _interned(json.loads(path.read_text(encoding="utf-8")))
        parsed = parse_schema(raw, {})
        reading_raw = _without_uuid_logical_type(raw)
        reading = parse_schema(reading_raw, {})
        reading_millis_raw, millis_fields = with_plain_fields(
            reading_raw, lambda _name, kind: kind.get("logicalType") == "timestamp-millis"
        )
        reading_millis = parse_schema(reading_millis_raw, {})
    except (OSError, ValueError, SchemaParseException, UnknownType) as exc:
        raise SchemaLoadError(f"{path}: not a valid Avro schema: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("type") != "record":
        raise SchemaLoadError(f"{path}: an event schema must be an Avro record")
    full_name = _full_name(raw)
    if full_name.rsplit(".", 1)[-1] != match["record"]:
        raise SchemaLoadError(
            f"{path}: the file name says {match['record']}, the schema {full_name}"
        )
    canonical = canonical_form(raw)
    schema_fingerprint = fingerprint(canonical)
    return SchemaVersion(
        full_name=full_name,
        version=int(match["version"]),
        path=path,
        raw=raw,
        parsed=parsed,
        reading=reading,
        reading_millis=reading_millis,
        millis_fields=millis_fields,
        canonical=canonical,
        fingerprint=schema_fingerprint,
        header=header(schema_fingerprint),
    )


def _without_uuid_logical_type(node: Any) -> Any:
    """A copy of a schema in which `{"type": "string", "logicalType": "uuid"}` is a plain string."""
    if isinstance(node, list):
        return [_without_uuid_logical_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("logicalType") == "uuid" and node.get("type") == "string":
        return {key: value for key, value in node.items() if key != "logicalType"}
    return {key: _without_uuid_logical_type(value) for key, value in node.items()}


def _interned(node: Any) -> Any:
    """A copy of a schema whose strings are interned, as the type names fastavro compares them
    with and the field names pydantic-core looks records up by are: equal strings are then the
    same object, found by identity (fastavro reads and writes faster, pydantic-core finds a
    record's values faster)."""
    if isinstance(node, str):
        return sys.intern(node)
    if isinstance(node, list):
        return [_interned(item) for item in node]
    if isinstance(node, dict):
        return {_interned(key): _interned(value) for key, value in node.items()}
    return node


def with_plain_fields(
    record: Any, plain: Callable[[str, dict[str, Any]], bool]
) -> tuple[Any, tuple[str, ...]]:
    """A copy of a record schema in which the record's own fields with a logical type that
    `plain(name, type)` picks have the logical type's underlying type instead (the same bytes),
    and those fields' names. Nested records and unions keep their logical types."""
    if not isinstance(record, dict) or not isinstance(record.get("fields"), list):
        return record, ()
    fields, names = [], []
    for original in record["fields"]:
        kind = original.get("type") if isinstance(original, dict) else None
        if isinstance(kind, dict) and "logicalType" in kind and plain(original["name"], kind):
            fields.append({**original, "type": kind["type"]})
            names.append(original["name"])
        else:
            fields.append(original)
    return {**record, "fields": fields}, tuple(names)


def _full_name(raw: dict[str, Any]) -> str:
    name, namespace = str(raw["name"]), raw.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"


class SchemaSet:
    """Every version of every record schema, looked up by fingerprint or by name and version."""

    def __init__(self, versions: Iterable[SchemaVersion]) -> None:
        self._by_fingerprint: dict[bytes, SchemaVersion] = {}
        self._by_name: dict[str, dict[int, SchemaVersion]] = {}
        for schema in versions:
            same_version = self._by_name.setdefault(schema.full_name, {}).get(schema.version)
            if same_version is not None:
                raise SchemaLoadError(
                    f"{schema.label} is defined twice: {same_version.path}, {schema.path}"
                )
            twin = self._by_fingerprint.get(schema.fingerprint)
            if twin is not None:
                raise SchemaLoadError(
                    f"{schema.path} and {twin.path} have the same canonical form: "
                    "a new version must change what is on the wire"
                )
            self._by_name[schema.full_name][schema.version] = schema
            self._by_fingerprint[schema.fingerprint] = schema

    @classmethod
    def load(cls, directory: Path) -> SchemaSet:
        """Every `*.avsc` under `directory`."""
        if not directory.is_dir():
            raise SchemaLoadError(f"schema directory {directory} does not exist")
        return cls(load_schema_file(path) for path in sorted(directory.rglob("*.avsc")))

    def by_fingerprint(self, schema_fingerprint: bytes) -> SchemaVersion | None:
        return self._by_fingerprint.get(schema_fingerprint)

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_name))

    def versions(self, full_name: str) -> tuple[SchemaVersion, ...]:
        """Every version of one record, oldest first; empty when there is none."""
        return tuple(v for _, v in sorted(self._by_name.get(full_name, {}).items()))

    def get(self, full_name: str, version: int | None = None) -> SchemaVersion | None:
        """One version, the newest when `version` is None."""
        versions = self._by_name.get(full_name, {})
        if not versions:
            return None
        return versions.get(max(versions) if version is None else version)

    def __iter__(self) -> Iterator[SchemaVersion]:
        for name in self.names():
            yield from self.versions(name)
