"""The Avro schemas of `schemas/`, parsed once and indexed by fingerprint and by record name.

Files are named `<Record>.v<N>.avsc` (any folder depth); `N` is the version, counted from 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import SchemaParseException, UnknownType

from conveyor.codec.errors import SchemaLoadError
from conveyor.codec.framing import canonical_form, fingerprint, header

_FILE_NAME = re.compile(r"^(?P<record>[A-Za-z_][A-Za-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.avsc$")


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one record schema."""

    full_name: str
    version: int
    path: Path
    raw: dict[str, Any] = field(repr=False)
    parsed: Any = field(repr=False)  # fastavro's parsed form, reused by every read and write
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
        raw = json.loads(path.read_text(encoding="utf-8"))
        parsed = parse_schema(raw, {})
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
        canonical=canonical,
        fingerprint=schema_fingerprint,
        header=header(schema_fingerprint),
    )


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
            raise SchemaLoadError(
                f"schema directory {directory} does not exist (conveyor installed apart from "
                "its repository? pass the schemas/ directory: default_codec(path))"
            )
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
